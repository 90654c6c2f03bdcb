/**
 * @module
 * ORIGIN_ASSERTION_KEYS as a setting: private JWKs (Ed25519 or P-256), in order, the first the
 * one that signs. What the keys are for, and how they are used: auth/origin-assertion.ts.
 */
import { misconfigured } from "../core/errors";

/** A private key as the setting holds it (the members WebCrypto imports). */
export type PrivateJwk = { kty: "OKP" | "EC"; crv: "Ed25519" | "P-256"; x: string; y?: string; d: string };

const B64URL = /^[A-Za-z0-9_-]+$/;

/** ORIGIN_ASSERTION_KEYS, in order; throws `misconfigured` (never quoting the value) for anything else. */
export function parseAssertionKeys(raw: string, name: string): readonly PrivateJwk[] {
  const problem = "must be a private JWK (Ed25519 or P-256) or a JSON array of them, as `npm run assertion-key` prints";
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw misconfigured(name, problem);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw misconfigured(name, problem);
  return list.map((entry) => {
    const jwk = entry as Partial<Record<string, unknown>>;
    const text = (member: string) => typeof jwk[member] === "string" && B64URL.test(jwk[member] as string);
    const okp = jwk.kty === "OKP" && jwk.crv === "Ed25519" && text("x") && text("d");
    const ec = jwk.kty === "EC" && jwk.crv === "P-256" && text("x") && text("y") && text("d");
    if (!okp && !ec) throw misconfigured(name, problem);
    const key: PrivateJwk = {
      kty: jwk.kty as PrivateJwk["kty"],
      crv: jwk.crv as PrivateJwk["crv"],
      x: jwk.x as string,
      d: jwk.d as string,
    };
    if (ec) key.y = jwk.y as string;
    return key;
  });
}
