import type { Session } from "../clerk/schemas";
import { now as clockNow } from "../core/clock";
import { ApiError, upstreamUnavailable } from "../core/errors";
import { fixedBytes, isolateMap, jsonBytes, SESSION_LIST_MEMORY_MS } from "../core/isolate-memory";
import { countLookup } from "../core/memory-stats";
import { joinWithin } from "../core/single-flight";
import { knownRecentlyRevoked, listChangeLearntAt, recentSetUsable } from "../revocation/recent";
import { isRevokedHere } from "../revocation/revocations";
import { ActiveSessionsEntry, kvKeys, readEntry } from "../storage/kv-schema";
import { queuedValue, writeCoalesced } from "../storage/kv-writer";

/**
 * @module
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

/** Parsed KV entries, by KV key (L1 in front of KV), with when they were put here (the gateway's clock). */
type Remembered = { entry: ActiveSessionsEntry; storedAt: number };
const sessionListMemory = isolateMap<string, Remembered>("sessionLists", (value) => jsonBytes(value.entry) + 16);

/**
 * A remembered list is used for SESSION_LIST_MEMORY_MS (2 s) on its own; past that, up to its
 * KV freshness, only while this isolate's recent set is usable and has not learnt of a change
 * to the user's list since the list was remembered (src/revocation/recent.ts: every session
 * created or ended anywhere is in the log within its window). Sessions in the recent set are
 * hidden from it either way.
 */
function stillValid(userId: string, remembered: Remembered, now: number): boolean {
  if (now - remembered.storedAt < SESSION_LIST_MEMORY_MS) return true;
  if (!recentSetUsable(now)) return false;
  const changed = listChangeLearntAt(userId);
  return changed === undefined || changed < remembered.storedAt;
}
/** One in-flight Clerk read per user per isolate (single flight). */
const inflight = isolateMap<string, Promise<ActiveSessionsEntry>>("sessionLoadsInFlight", fixedBytes(64));
type Landed = { seq: number; generation: number; entry: ActiveSessionsEntry };
/**
 * The last load per user that finished in this isolate, numbered, with the generation it started at.
 * Kept as long as a session list in memory: it only serves requests that were reading KV meanwhile.
 */
const landed = isolateMap<string, Landed>("sessionLoadsLanded", (value) => jsonBytes(value.entry) + 32);
let loadSeq = 0;
/**
 * Bumped by every confirmed write for a user: a read that started earlier must not overwrite it.
 * Bounded: forgetting a generation only lets an in-flight read write a list that is one revoke
 * behind, which the revocation markers still cover.
 */
const generation = isolateMap<string, number>("sessionGenerations", fixedBytes(8));

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
    /** Receives how long this call waited on Clerk (its own load or one it joined). */
    waited?: { ms: number },
  ): Promise<{ sessions: Session[]; cache: CacheStatus; fetchedAt: number }> {
    if (this.#options.freshSeconds === 0) {
      // SESSION_CACHE_TTL_SECONDS=0: no cache at all, not even single flight; every read is Clerk's.
      const sessions = (await load()).filter((s) => s.status === "active");
      return { sessions: visible(sessions), cache: "MISS", fetchedAt: clockNow() };
    }
    const now = clockNow();
    const seenLoad = landed.get(userId)?.seq;
    const entry = await this.#read(userId);
    const complete = mustInclude === undefined || entry?.sessions.some((s) => s.id === mustInclude);
    if (entry && complete && !entry.stale && now - entry.fetched_at < this.#options.freshSeconds * 1000) {
      return { sessions: visible(entry.sessions), cache: "HIT", fetchedAt: entry.fetched_at };
    }
    // A load that finished while this request was reading KV is as fresh as a new one: sharing it
    // closes the gap in which a late miss would otherwise start a second upstream call.
    const recent = landed.get(userId);
    if (
      recent &&
      recent.seq !== seenLoad &&
      recent.generation === (generation.get(userId) ?? 0) &&
      (mustInclude === undefined || recent.entry.sessions.some((s) => s.id === mustInclude))
    ) {
      return { sessions: visible(recent.entry.sessions), cache: "MISS", fetchedAt: recent.entry.fetched_at };
    }
    const loadStarted = Date.now();
    try {
      const fresh = await this.#refill(userId, load).finally(() => {
        if (waited) waited.ms += Date.now() - loadStarted;
      });
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
    await this.#update(userId, (entry) => {
      const sessions = entry.sessions.filter((s) => s.id !== sessionId);
      return sessions.length === entry.sessions.length ? null : { ...entry, sessions };
    });
  }

  /** A session appeared or changed in Clerk: the next read goes to Clerk, the old list stays as a fallback. */
  async invalidate(userId: string): Promise<void> {
    bump(userId);
    await this.#update(userId, (entry) => (entry.stale ? null : { ...entry, stale: true }));
  }

  /**
   * Read-modify-write of one user's entry, one at a time per user in this isolate: two
   * revokes racing on the same list would otherwise each remove their session from the
   * same old copy, and the last write would bring the other's session back. Only the
   * read and the queueing are serialised; waiting for KV to accept the write is not.
   */
  async #update(userId: string, change: (entry: ActiveSessionsEntry) => ActiveSessionsEntry | null): Promise<void> {
    const { written } = await serialized(userId, async () => {
      const entry = await this.#read(userId);
      const next = entry ? change(entry) : null;
      return { written: next ? this.#write(userId, next) : Promise.resolve() };
    });
    await written;
  }

  async #read(userId: string): Promise<ActiveSessionsEntry | null> {
    const key = kvKeys.activeSessions(userId);
    const queued = queuedValue(key);
    if (queued !== undefined) return queued === null ? null : (JSON.parse(queued) as ActiveSessionsEntry);
    // Memory (L1) holds the parsed KV entry with its own fetched_at: freshness is judged as for KV.
    const now = clockNow();
    const held = sessionListMemory.get(key, now);
    const remembered = countLookup("lists", held && stillValid(userId, held, now) ? held.entry : undefined);
    if (remembered) return remembered;
    const entry = await readEntry(this.#kv, key, ActiveSessionsEntry);
    if (entry) sessionListMemory.set(key, { entry, storedAt: clockNow() }, this.#options.freshSeconds * 1000);
    return entry;
  }

  #write(userId: string, entry: ActiveSessionsEntry): Promise<void> {
    const key = kvKeys.activeSessions(userId);
    // Until KV has the new value, reads see the queued one; a copy read meanwhile is replaced once it landed.
    sessionListMemory.delete(key);
    const ttl = this.#options.freshSeconds + this.#options.staleSeconds;
    const startedAt = generation.get(userId) ?? 0;
    return writeCoalesced(this.#kv, key, JSON.stringify(entry), ttl).then(
      () => {
        // Once KV has it, what this isolate wrote is what KV holds: remembered, unless a newer
        // value is queued behind it or a confirmed write for the user came since (that one wins).
        if (queuedValue(key) === undefined && (generation.get(userId) ?? 0) === startedAt) {
          sessionListMemory.set(key, { entry, storedAt: clockNow() }, this.#options.freshSeconds * 1000);
        } else sessionListMemory.delete(key);
      },
      (error) => {
        sessionListMemory.delete(key);
        throw error;
      },
    );
  }

  /**
   * Joins the load in flight for this user, or starts one. The load may belong to a request
   * that is gone (see src/core/single-flight.ts): after SHARED_WORK_PATIENCE_MS this request leads a
   * load of its own, which later misses join, unless another waiter already took over.
   */
  async #refill(userId: string, load: () => Promise<Session[]>): Promise<ActiveSessionsEntry> {
    for (;;) {
      const running = inflight.get(userId);
      if (!running) return this.#lead(userId, load);
      const joined = await joinWithin(running);
      if (joined) return joined.value;
      if (inflight.get(userId) === running) return this.#lead(userId, load);
    }
  }

  #lead(userId: string, load: () => Promise<Session[]>): Promise<ActiveSessionsEntry> {
    const startedAt = generation.get(userId) ?? 0;
    const promise: Promise<ActiveSessionsEntry> = (async () => {
      const sessions = (await load()).filter((s) => s.status === "active");
      const entry: ActiveSessionsEntry = { fetched_at: clockNow(), sessions };
      landed.set(userId, { seq: ++loadSeq, generation: startedAt, entry }, SESSION_LIST_MEMORY_MS);
      // A revoke confirmed while this read was in flight wins: its list is newer than ours.
      if ((generation.get(userId) ?? 0) === startedAt) {
        this.#options.waitUntil(this.#write(userId, entry).catch(logWriteFailure));
      }
      return entry;
    })().finally(() => {
      // Only our own entry: a waiter that took over from a stalled load has put its own there.
      inflight.deleteIf(userId, promise);
    });
    inflight.set(userId, promise);
    // Other requests may be waiting on it: it completes even once this request has its answer.
    this.#options.waitUntil(promise.catch(() => undefined));
    return promise;
  }
}

/** Per user, the tail of the chain of read-modify-writes (see #update). */
const updating = isolateMap<string, Promise<unknown>>("sessionUpdates", fixedBytes(64));

/**
 * The previous update may belong to a request that is gone (src/core/single-flight.ts): after a bounded
 * wait this one runs anyway, which at worst lets two updates race (see `sessionUpdates`).
 */
function serialized<T>(userId: string, task: () => Promise<T>): Promise<T> {
  const previous = updating.get(userId);
  const run = (previous ? joinWithin(previous) : Promise.resolve()).then(task);
  const tail = run.catch(() => undefined);
  updating.set(userId, tail);
  void tail.then(() => updating.deleteIf(userId, tail));
  return run;
}

/** Sessions this isolate knows were revoked (here, or anywhere in the recent set) are hidden even if KV has not caught up. */
const visible = (sessions: Session[]) => sessions.filter((s) => !isRevokedHere(s.id) && !knownRecentlyRevoked(s.id));

function bump(userId: string) {
  generation.set(userId, (generation.get(userId) ?? 0) + 1);
}

function isUpstreamFailure(error: unknown): boolean {
  return error instanceof ApiError && (error.status >= 500 || error.status === 429);
}

function logWriteFailure(error: unknown) {
  console.error(JSON.stringify({ level: "error", msg: "kv_write_failed", error: String(error) }));
}
