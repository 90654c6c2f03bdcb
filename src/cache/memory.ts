/**
 * Per-isolate memory in front of KV and jose, for the hot path (`GET /v1/me/sessions/active`
 * with a warm cache). Every layer here is bounded in size and in time, and none of them can
 * make the gateway accept something KV or Clerk would refuse for longer than stated:
 *
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
 */

/** How long a session list read from KV is reused from memory. Never longer than its KV freshness. */
export const SESSION_LIST_MEMORY_MS = 2_000;
/** How long "no revocation marker in KV" is believed. Bounds the extra delay of a cross-isolate revocation. */
export const REVOCATION_NEGATIVE_MEMORY_MS = 1_000;
/** A verified token is re-verified after this long even if it has not expired. */
export const VERIFIED_TOKEN_MEMORY_MS = 60_000;

/** A small map whose entries expire, bounded in size (oldest insertions evicted first). */
export class MemoryTtl<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #max: number;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get(key: string, now = Date.now()): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    if (ttlMs <= 0) return;
    if (this.#entries.size >= this.#max && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.delete(key);
    this.#entries.set(key, { value, until: now + ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Parsed `sessions:v1:{user_id}` entries, by KV key. */
export const sessionListMemory = new MemoryTtl<unknown>(10_000);
/** Session ids with no revocation marker in KV at the time of the lookup. */
export const notRevokedMemory = new MemoryTtl<true>(50_000);
/** Verified session-token claims, by token string, per configuration object. */
const verified = new WeakMap<object, MemoryTtl<unknown>>();

export function verifiedTokens(config: object): MemoryTtl<unknown> {
  let memo = verified.get(config);
  if (!memo) {
    memo = new MemoryTtl<unknown>(10_000);
    verified.set(config, memo);
  }
  return memo;
}

/** How long Clerk's answer on a session's status is believed, for tokens that outlive Clerk's 60 s. */
export const SESSION_STATUS_MEMORY_MS = 10_000;
/** Session statuses read from Clerk for long-lived tokens (src/policies.ts), by session id. */
export const sessionStatusMemory = new MemoryTtl<string>(10_000);

/** Test hook: forget everything this isolate remembers. */
export function clearMemory(): void {
  sessionListMemory.clear();
  notRevokedMemory.clear();
  sessionStatusMemory.clear();
}
