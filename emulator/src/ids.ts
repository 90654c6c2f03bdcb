/**
 * Clerk-style identifiers: `<prefix>_` followed by exactly 27 base62 characters
 * (the length of Clerk's KSUID-based IDs), so the gateway's ID validation treats
 * emulator IDs exactly like real ones.
 */
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const ID_BODY_LENGTH = 27;

/** Matches any Clerk-style ID with the given prefix. */
export function clerkIdPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix}_[0-9A-Za-z]{${ID_BODY_LENGTH}}$`);
}

function randomBase62(length: number): string {
  // Rejection sampling keeps the distribution uniform (256 is not a multiple of 62).
  let out = "";
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

/** A fresh random ID such as `sess_4kQ…` (27 base62 characters after the prefix). */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBase62(ID_BODY_LENGTH)}`;
}

/**
 * A deterministic, human-readable seed ID: the name padded with zeros to 27 characters,
 * e.g. `seedId("user", "alice")` → `user_alice0000000000000000000000`.
 */
export function seedId(prefix: string, name: string): string {
  if (!/^[0-9A-Za-z]+$/.test(name) || name.length > ID_BODY_LENGTH) {
    throw new Error(`seed name must be 1-${ID_BODY_LENGTH} base62 characters: ${name}`);
  }
  return `${prefix}_${name.padEnd(ID_BODY_LENGTH, "0")}`;
}

/** Random lowercase hex, e.g. for `jti` claims and trace IDs. */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An opaque random token (refresh tokens): base62 so it is cookie- and URL-safe. */
export function randomOpaqueToken(length = 40): string {
  return randomBase62(length);
}
