/**
 * @module
 * Everything a Worker isolate keeps between requests, in one registry. Every structure is
 * a named {@link BoundedMap} whose bounds are listed in {@link ISOLATE_MEMORY} below: a
 * number of entries AND an estimate of bytes, so neither many small entries nor a few
 * large ones (a user with 500 sessions) can grow an isolate's memory without limit.
 * Expired entries are evicted on insert; beyond a bound the oldest insertions go first.
 * Expiry is on the gateway's clock (src/core/clock.ts), which tests move instead of sleeping.
 * `resetIsolateMemory()` forgets all of it (tests).
 *
 * None of these layers can make the gateway accept something KV or Clerk would refuse
 * for longer than stated:
 * - session lists: the parsed KV entry, kept SESSION_LIST_MEMORY_MS at most. The entry keeps
 *   its `fetched_at`, so the freshness rule (SESSION_CACHE_TTL_SECONDS) is applied to it
 *   exactly as to a KV read: memory never serves a list beyond KV freshness. Writes made in
 *   this isolate drop the memory copy (the queued KV value is read instead).
 * - revocation lookups that found nothing: remembered REVOCATION_NEGATIVE_MEMORY_MS (1 s). A
 *   revocation made in this isolate is exact at once (positive markers are checked first);
 *   one made elsewhere is seen here at most 1 s after KV shows it.
 * - verified session tokens: the claims of a token whose signature and claims were checked,
 *   keyed by the whole token string (signature included), never past the token's own `exp`.
 *   Revocation is checked on every request regardless.
 * Forgetting an entry early is always safe: the next request reads KV or asks Clerk.
 */
import { now as clockNow, resetClock } from "./clock";

/** How long a session list read from KV is reused from memory. Never longer than its KV freshness. */
export const SESSION_LIST_MEMORY_MS = 2_000;
/** How long "no revocation marker in KV" is believed. Bounds the extra delay of a cross-isolate revocation. */
export const REVOCATION_NEGATIVE_MEMORY_MS = 1_000;
/** A verified token is re-verified after this long even if it has not expired. */
export const VERIFIED_TOKEN_MEMORY_MS = 60_000;
/** How long Clerk's answer on a session's status is believed, for tokens that outlive Clerk's 60 s. */
export const SESSION_STATUS_MEMORY_MS = 10_000;

export type MemoryBounds = {
  maxEntries: number;
  maxBytes: number;
  /** What the structure holds, and why forgetting it early is harmless. */
  holds: string;
};

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Every per-isolate structure and its bounds. An isolate has 128 MiB; all bounds together
 * stay under a third of that. Bytes are estimates (JSON length of values, key length, a
 * fixed cost per entry), which is what makes a byte bound comparable across structures.
 */
export const ISOLATE_MEMORY = {
  sessionLists: {
    maxEntries: 10_000,
    maxBytes: 6 * MiB,
    holds: "parsed `sessions:v1:{user_id}` KV entries, by KV key, SESSION_LIST_MEMORY_MS at most",
  },
  sessionLoadsInFlight: {
    maxEntries: 10_000,
    maxBytes: 2 * MiB,
    holds: "one in-flight Clerk read per user (single flight); forgetting one only allows a second read",
  },
  sessionLoadsLanded: {
    maxEntries: 10_000,
    maxBytes: 3 * MiB,
    holds: "the last finished Clerk read per user, shared with requests that missed while it ran",
  },
  sessionGenerations: {
    maxEntries: 10_000,
    maxBytes: 1 * MiB,
    holds: "per user, a counter bumped by each confirmed write, so an older read never overwrites it",
  },
  sessionUpdates: {
    maxEntries: 10_000,
    maxBytes: 2 * MiB,
    holds:
      "per user, the tail of the read-modify-write chain of the session list; forgetting one lets two updates race, and the revocation markers still refuse what a lost update would show",
  },
  revokedHere: {
    maxEntries: 50_000,
    maxBytes: 4 * MiB,
    holds: "sessions revoked through this isolate (KV has the same markers for everyone else)",
  },
  recentRevocations: {
    // 770 revocations a second held for the 65 s window; a window that does not fit is not
    // held at all (the set then answers nothing and the per-user check applies).
    maxEntries: 50_000,
    maxBytes: 6 * MiB,
    holds:
      "the recent revocations of the whole deployment (session ids, and user ids whose session list changed) for the 65 s tokens can live, read from the revocation log; a window larger than these bounds is not held at all (the set then answers nothing), and forgetting the set forgets its cursor with it",
  },
  recentCursor: {
    maxEntries: 1,
    maxBytes: 1 * KiB,
    holds:
      "the recent set's cursor: replica, epoch, position, when it was read; forgetting it makes the set unusable until the whole window is read again",
  },
  recentReadFailures: {
    maxEntries: 1,
    maxBytes: 1 * KiB,
    holds:
      "that the last read of the revocation log failed, for RECENT_RETRY_MS: requests take the per-user check meanwhile instead of each waiting on the log; forgetting it only means one more attempt",
  },
  directoryFailures: {
    maxEntries: 1_000,
    maxBytes: 128 * KiB,
    holds:
      "per user, when the current run of failures to reach their SessionDirectory object began; forgetting one restarts that user's KV fallback window here",
  },
  webhookClaims: {
    maxEntries: 200,
    maxBytes: 16 * KiB,
    holds:
      "webhook ids claimed in this isolate without a SESSION_DIRECTORY binding, until KV shows them; forgetting one leaves KV's check",
  },
  notRevoked: {
    maxEntries: 20_000,
    maxBytes: 2 * MiB,
    holds: "session ids with no revocation marker in KV, REVOCATION_NEGATIVE_MEMORY_MS at most",
  },
  verifiedTokens: {
    maxEntries: 10_000,
    maxBytes: 5 * MiB,
    holds: "claims of verified session tokens, by token string, never past exp",
  },
  sessionStatuses: {
    maxEntries: 10_000,
    maxBytes: 1 * MiB,
    holds: "session statuses read from Clerk for long-lived tokens, by session id, SESSION_STATUS_MEMORY_MS at most",
  },
  jwksStores: {
    maxEntries: 16,
    maxBytes: 256 * KiB,
    holds: "Clerk's signing keys, one store per Backend-API origin",
  },
  pemKeys: {
    maxEntries: 8,
    maxBytes: 32 * KiB,
    holds: "CLERK_JWT_KEY imported as a CryptoKey",
  },
  assertionKeys: {
    // One setting's worth, and room for the next while a rotation deploys (4 KiB each, counted fixed).
    maxEntries: 3,
    maxBytes: 16 * KiB,
    holds: "ORIGIN_ASSERTION_KEYS imported, with their public JWKs; forgetting them only costs a re-import",
  },
  kvQueued: {
    maxEntries: 10_000,
    maxBytes: 4 * MiB,
    holds:
      "KV writes waiting for their turn (one write per key per second), read back at once here; a forgotten one is still written",
  },
  kvWriting: {
    maxEntries: 10_000,
    maxBytes: 4 * MiB,
    holds: "KV writes in progress, read back here until KV has them",
  },
  kvLastWrite: {
    maxEntries: 10_000,
    maxBytes: 1 * MiB,
    holds: "when each key was last written, for KV's one-write-per-second pacing",
  },
  upstreamBlocks: {
    maxEntries: 64,
    maxBytes: 16 * KiB,
    holds: "per Clerk origin, until when Clerk's 429 asked the gateway to stay away",
  },
  configs: {
    maxEntries: 16,
    maxBytes: 128 * KiB,
    holds: "parsed configuration per env object, so parsing stays off the hot path",
  },
  backendClients: {
    // One per environment view in practice; the entry bound is what holds (a client is counted
    // at a nominal 2 KiB: it is some forty small API objects sharing one request function).
    maxEntries: 3,
    maxBytes: 8 * KiB,
    holds:
      'the @clerk/backend client of `c.get("clerk")`, per environment view (clerk-session-gateway/hono/clerk-client); a forgotten one is rebuilt',
  },
  appConfigs: {
    // One per configuration in practice (the app's middleware on an env with no CLERK_AUTHORIZED_PARTIES).
    maxEntries: 8,
    maxBytes: 8 * KiB,
    holds:
      "per gateway configuration, the app middleware's variant of it that leaves azp unchecked (CLERK_AUTHORIZED_PARTIES unset, as @clerk/hono); a forgotten one is rebuilt",
  },
  gatewayEnvs: {
    maxEntries: 16,
    maxBytes: 8 * KiB,
    holds:
      "per set of clerk-session-gateway/hono options (renamed bindings, settings in code), the env views built from them, weakly by env object; a forgotten one is rebuilt",
  },
  backgroundWork: {
    maxEntries: 1_000,
    maxBytes: 256 * KiB,
    holds:
      "work kept alive past a response (KV writes of a revoke, the recent set's refresh) until it settles, so tests can wait for it; forgetting one only stops a test waiting for it",
  },
  serviceKeyDigests: {
    maxEntries: 16,
    maxBytes: 64 * KiB,
    holds: "SHA-256 digests of GATEWAY_API_KEYS, per parsed key list",
  },
} as const satisfies Record<string, MemoryBounds>;

export type MemoryName = keyof typeof ISOLATE_MEMORY;

/** What one entry is assumed to cost beyond its key and value (the map slot, the record around the value). */
export const ENTRY_OVERHEAD_BYTES = 64;
/** A key that is an object (an env, a key list) is held by reference: counted as this. */
const OBJECT_KEY_BYTES = 16;

/** Estimated size of a JSON-shaped value: its JSON length. */
export const jsonBytes = (value: unknown): number => JSON.stringify(value)?.length ?? 0;
/** For values whose size is fixed or meaningless to measure (promises, numbers, keys): a constant. */
export const fixedBytes = (bytes: number) => (): number => bytes;

const SWEEP_INTERVAL_MS = 1_000;

type Slot<V> = { value: V; until: number; bytes: number };

/**
 * A map bounded in entries and in (estimated) bytes, whose entries may expire. Insertion
 * order is eviction order: an insert first drops expired entries, then the oldest ones,
 * until both bounds hold.
 */
export class BoundedMap<K, V> {
  readonly name: string;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly #sizeOf: (value: V, key: K) => number;
  readonly #entries = new Map<K, Slot<V>>();
  #bytes = 0;
  #sweptAt = Number.NEGATIVE_INFINITY;
  /** No entry expires before this: a sweep before it would find nothing. */
  #earliestExpiry = Number.POSITIVE_INFINITY;

  constructor(
    name: string,
    bounds: Pick<MemoryBounds, "maxEntries" | "maxBytes">,
    sizeOf: (value: V, key: K) => number,
  ) {
    this.name = name;
    this.maxEntries = bounds.maxEntries;
    this.maxBytes = bounds.maxBytes;
    this.#sizeOf = sizeOf;
  }

  get(key: K, now = clockNow()): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.until <= now) {
      this.#remove(key, hit);
      return undefined;
    }
    return hit.value;
  }

  has(key: K, now = clockNow()): boolean {
    return this.get(key, now) !== undefined;
  }

  /**
   * Keeps `value` for `ttlMs` (forever when omitted, until evicted). Returns false when it
   * is not kept: a non-positive TTL, or a value larger than the whole byte bound.
   */
  set(key: K, value: V, ttlMs = Number.POSITIVE_INFINITY, now = clockNow()): boolean {
    const previous = this.#entries.get(key);
    if (previous) this.#remove(key, previous);
    if (!(ttlMs > 0)) return false;
    const bytes = keyBytes(key) + this.#sizeOf(value, key) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return false;
    this.#evictFor(bytes, now);
    this.#entries.set(key, { value, until: now + ttlMs, bytes });
    this.#bytes += bytes;
    this.#earliestExpiry = Math.min(this.#earliestExpiry, now + ttlMs);
    return true;
  }

  delete(key: K): void {
    const hit = this.#entries.get(key);
    if (hit) this.#remove(key, hit);
  }

  /** Deletes `key` only while it still holds `value` (a newer value stays). */
  deleteIf(key: K, value: V): void {
    const hit = this.#entries.get(key);
    if (hit && hit.value === value) this.#remove(key, hit);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
    this.#sweptAt = Number.NEGATIVE_INFINITY;
    this.#earliestExpiry = Number.POSITIVE_INFINITY;
  }

  /** Live values, expired ones included until they are evicted. */
  values(): V[] {
    return [...this.#entries.values()].map((slot) => slot.value);
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #remove(key: K, slot: Slot<V>) {
    this.#entries.delete(key);
    this.#bytes -= slot.bytes;
  }

  #fits(bytes: number): boolean {
    return this.#entries.size < this.maxEntries && this.#bytes + bytes <= this.maxBytes;
  }

  #evictFor(bytes: number, now: number) {
    // Expired entries at the front cost nothing to find.
    for (const [key, slot] of this.#entries) {
      if (slot.until > now) break;
      this.#remove(key, slot);
    }
    // Entries with different TTLs expire out of insertion order: a sweep finds the rest, once
    // something can have expired and at most once per SWEEP_INTERVAL_MS, so a busy map does not
    // scan itself on every insert.
    if (now >= this.#earliestExpiry && now - this.#sweptAt >= SWEEP_INTERVAL_MS) {
      this.#sweptAt = now;
      this.#earliestExpiry = Number.POSITIVE_INFINITY;
      for (const [key, slot] of this.#entries) {
        if (slot.until <= now) this.#remove(key, slot);
        else this.#earliestExpiry = Math.min(this.#earliestExpiry, slot.until);
      }
    }
    // Then the oldest live entries, until the new one fits.
    for (const [key, slot] of this.#entries) {
      if (this.#fits(bytes)) return;
      this.#remove(key, slot);
    }
  }
}

const keyBytes = (key: unknown): number => (typeof key === "string" ? key.length : OBJECT_KEY_BYTES);

const registry = new Map<MemoryName, BoundedMap<unknown, unknown>>();

/**
 * The structure `name`, with the bounds listed in ISOLATE_MEMORY. Called once by the module
 * that owns the structure (which knows its types); `sizeOf` estimates one value's bytes.
 */
export function isolateMap<K, V>(name: MemoryName, sizeOf: (value: V, key: K) => number): BoundedMap<K, V> {
  const map = new BoundedMap<K, V>(name, ISOLATE_MEMORY[name], sizeOf);
  registry.set(name, map as BoundedMap<unknown, unknown>);
  return map;
}

/**
 * Forgets everything this isolate remembers (tests), but the structures named in `keep`, and
 * puts the clock back to wall time: entries kept on a moved clock would otherwise outlive their time.
 */
export function resetIsolateMemory(options: { keep?: readonly MemoryName[] } = {}): void {
  for (const [name, map] of registry) if (!options.keep?.includes(name)) map.clear();
  resetClock();
}

export type MemoryUsage = { name: MemoryName; entries: number; bytes: number; maxEntries: number; maxBytes: number };

/** Every registered structure with its current size and its bounds (tests, diagnostics). */
export function isolateMemoryUsage(): MemoryUsage[] {
  return [...registry].map(([name, map]) => ({
    name,
    entries: map.size,
    bytes: map.bytes,
    maxEntries: map.maxEntries,
    maxBytes: map.maxBytes,
  }));
}

/** The registered structure `name` (tests prove each bound through it). */
export function registeredMap(name: MemoryName): BoundedMap<unknown, unknown> | undefined {
  return registry.get(name);
}
