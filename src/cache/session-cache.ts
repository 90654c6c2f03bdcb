import type { Session } from "../clerk/schemas";
import { ApiError, upstreamUnavailable } from "../errors";
import { ActiveSessionsEntry, kvKeys, readEntry } from "./kv-schema";
import { queuedValue, writeCoalesced } from "./kv-writer";
import { SESSION_LIST_MEMORY_MS, sessionListMemory } from "./memory";
import { isRevokedHere } from "./revocations";

/**
 * Each user's active sessions, one KV entry per user. Fresh for `freshSeconds`; after
 * that re-read from Clerk, with concurrent misses for one user sharing one call; when
 * Clerk fails, served stale for up to `staleSeconds` more.
 */
export type CacheStatus = "HIT" | "MISS" | "STALE";

export type CacheOptions = {
  freshSeconds: number;
  staleSeconds: number;
  /** Keeps work alive after the response (ctx.waitUntil). */
  waitUntil: (promise: Promise<unknown>) => void;
};

/** One in-flight Clerk read per user per isolate (single flight). */
const inflight = new Map<string, Promise<ActiveSessionsEntry>>();
/** Bumped by every confirmed write for a user: a read that started earlier must not overwrite it. */
const generation = new Map<string, number>();

export class SessionCache {
  readonly #kv: KVNamespace;
  readonly #options: CacheOptions;

  constructor(kv: KVNamespace, options: CacheOptions) {
    this.#kv = kv;
    this.#options = options;
  }

  /**
   * `mustInclude`: a session known to be active (the caller's own, just verified). A list
   * without it is provably out of date (a sign-in whose webhook has not arrived yet), so
   * it counts as a miss however young it is.
   */
  async getActive(
    userId: string,
    load: () => Promise<Session[]>,
    mustInclude?: string,
  ): Promise<{ sessions: Session[]; cache: CacheStatus; fetchedAt: number }> {
    if (this.#options.freshSeconds === 0) {
      // SESSION_CACHE_TTL_SECONDS=0: no cache at all, not even single flight; every read is Clerk's.
      const sessions = (await load()).filter((s) => s.status === "active");
      return { sessions: visible(sessions), cache: "MISS", fetchedAt: Date.now() };
    }
    const now = Date.now();
    const entry = await this.#read(userId);
    const complete = mustInclude === undefined || entry?.sessions.some((s) => s.id === mustInclude);
    if (entry && complete && !entry.stale && now - entry.fetched_at < this.#options.freshSeconds * 1000) {
      return { sessions: visible(entry.sessions), cache: "HIT", fetchedAt: entry.fetched_at };
    }
    try {
      const fresh = await this.#refill(userId, load);
      return { sessions: visible(fresh.sessions), cache: "MISS", fetchedAt: fresh.fetched_at };
    } catch (error) {
      const staleLimitMs = (this.#options.freshSeconds + this.#options.staleSeconds) * 1000;
      if (entry && now - entry.fetched_at <= staleLimitMs && isUpstreamFailure(error)) {
        return { sessions: visible(entry.sessions), cache: "STALE", fetchedAt: entry.fetched_at };
      }
      if (entry && isUpstreamFailure(error)) {
        throw upstreamUnavailable(503, "Clerk is unavailable and the cached sessions are too old to serve", 30);
      }
      throw error;
    }
  }

  /** Write-through after Clerk confirmed a revoke (or a webhook reported the end of a session). */
  async removeSession(userId: string, sessionId: string): Promise<void> {
    bump(userId);
    const entry = await this.#read(userId);
    if (!entry) return;
    const sessions = entry.sessions.filter((s) => s.id !== sessionId);
    if (sessions.length === entry.sessions.length) return;
    await this.#write(userId, { ...entry, sessions });
  }

  /** A session appeared or changed in Clerk: the next read goes to Clerk, the old list stays as a fallback. */
  async invalidate(userId: string): Promise<void> {
    bump(userId);
    const entry = await this.#read(userId);
    if (!entry || entry.stale) return;
    await this.#write(userId, { ...entry, stale: true });
  }

  async #read(userId: string): Promise<ActiveSessionsEntry | null> {
    const key = kvKeys.activeSessions(userId);
    const queued = queuedValue(key);
    if (queued !== undefined) return queued === null ? null : (JSON.parse(queued) as ActiveSessionsEntry);
    // Memory (L1) holds the parsed KV entry with its own fetched_at: freshness is judged as for KV.
    const remembered = sessionListMemory.get(key) as ActiveSessionsEntry | undefined;
    if (remembered) return remembered;
    const entry = await readEntry(this.#kv, key, ActiveSessionsEntry);
    if (entry) sessionListMemory.set(key, entry, Math.min(SESSION_LIST_MEMORY_MS, this.#options.freshSeconds * 1000));
    return entry;
  }

  #write(userId: string, entry: ActiveSessionsEntry): Promise<void> {
    const key = kvKeys.activeSessions(userId);
    // Until KV has the new value, reads see the queued one; a copy read meanwhile is dropped once it landed.
    sessionListMemory.delete(key);
    const ttl = this.#options.freshSeconds + this.#options.staleSeconds;
    return writeCoalesced(this.#kv, key, JSON.stringify(entry), ttl).finally(() => sessionListMemory.delete(key));
  }

  #refill(userId: string, load: () => Promise<Session[]>): Promise<ActiveSessionsEntry> {
    const running = inflight.get(userId);
    if (running) return running;
    const startedAt = generation.get(userId) ?? 0;
    const promise = (async () => {
      try {
        const sessions = (await load()).filter((s) => s.status === "active");
        const entry: ActiveSessionsEntry = { fetched_at: Date.now(), sessions };
        // A revoke confirmed while this read was in flight wins: its list is newer than ours.
        if ((generation.get(userId) ?? 0) === startedAt) {
          this.#options.waitUntil(this.#write(userId, entry).catch(logWriteFailure));
        }
        return entry;
      } finally {
        inflight.delete(userId);
      }
    })();
    inflight.set(userId, promise);
    return promise;
  }
}

/** Sessions this isolate knows were revoked are hidden even if KV has not caught up. */
const visible = (sessions: Session[]) => sessions.filter((s) => !isRevokedHere(s.id));

function bump(userId: string) {
  // Bounded: forgetting generations only lets an in-flight read write a list that is one revoke behind,
  // which the revocation markers still cover.
  if (generation.size > 10_000) generation.clear();
  generation.set(userId, (generation.get(userId) ?? 0) + 1);
}

function isUpstreamFailure(error: unknown): boolean {
  return error instanceof ApiError && (error.status >= 500 || error.status === 429);
}

function logWriteFailure(error: unknown) {
  console.error(JSON.stringify({ level: "error", msg: "kv_write_failed", error: String(error) }));
}
