/**
 * @module
 * The pure rules of "recent revocations per location" (docs/directory.md), with `now` passed
 * in: which revocations an isolate must hold, when its set is fresh enough to answer alone,
 * and how a revocation log's answer is merged into what the isolate holds. No I/O here.
 */

/**
 * How long a revocation has to be remembered by the recent set: Clerk's 60 s session token
 * (SESSION_TOKEN_LIFETIME_SECONDS) plus the 5 s of clock skew the gateway allows past `exp`
 * (CLOCK_SKEW_SECONDS). Clerk issues no token for a session it has ended, so every token of a
 * session revoked longer ago than this has expired: the recent set can forget it.
 */
export const RECENT_WINDOW_MS = 65_000;
/** The token lifetime and skew the window is made of (the auth layer's constants; a test checks they agree). */
export const COVERED_TOKEN_LIFETIME_SECONDS = 60;
export const COVERED_CLOCK_SKEW_SECONDS = 5;
/** The set is refreshed once it is older than this (drawn per refresh in [REFRESH_MIN_MS, RECENT_REFRESH_MS]). */
export const RECENT_REFRESH_MS = 1_000;
/** The low end of the jittered refresh age: isolates of one location do not refresh in step. */
export const REFRESH_MIN_MS = 800;
/**
 * Past this age the set answers nothing: the request waits for a refresh, and when that fails
 * the per-user check applies (the SessionDirectory, with its bounded fallback and 503 rules).
 */
export const RECENT_MAX_STALE_MS = 1_200;
/** A location's cached copy of the set (Cache API) is used while now − its stamp is below this. */
export const RECENT_CACHE_FRESH_MS = 500;

/** One revocation in a log: its position, the session, and when the log appended it (the log's clock). */
export type LogEntry = { seq: number; sid: string; at: number };

/** What a log replica answers to `since(cursor, epoch)`. */
export type LogAnswer = {
  /** The replica's identity: a new epoch (storage lost, a new object) makes every cursor void. */
  epoch: string;
  /** The highest position in the replica; the reader's next cursor. */
  seq: number;
  /** Every entry after the cursor (all of the window when the epoch was not the reader's), oldest first. */
  entries: LogEntry[];
  /** How many entries the replica holds in the window: what the reader must be able to hold. */
  count: number;
};

/** What an isolate holds besides the entries themselves. */
export type HeldState = {
  epoch: string;
  cursor: number;
  /** When the read that produced this set started, on the gateway's clock: its age counts from there. */
  readAt: number;
};

/** How a held set may be used at `now`. */
export type Freshness = "fresh" | "refresh" | "stale";

/**
 * "fresh": answer from the set alone. "refresh": answer from it, and start a refresh in the
 * background. "stale" (no set, or older than RECENT_MAX_STALE_MS): the set answers nothing.
 */
export function freshness(held: Pick<HeldState, "readAt"> | undefined, now: number, refreshAfterMs: number): Freshness {
  if (!held) return "stale";
  const age = now - held.readAt;
  if (age >= RECENT_MAX_STALE_MS) return "stale";
  return age >= refreshAfterMs ? "refresh" : "fresh";
}

/** The refresh age for one refresh, from a uniform draw in [0, 1). */
export function refreshAfter(random: number): number {
  return REFRESH_MIN_MS + Math.min(Math.max(random, 0), 1) * (RECENT_REFRESH_MS - REFRESH_MIN_MS);
}

/** True while a revocation appended at `at` must still be held at `now`. */
export function inWindow(at: number, now: number): boolean {
  return now - at < RECENT_WINDOW_MS;
}

/** The entries still in the window at `now` (window pruning). */
export function pruneWindow(entries: readonly LogEntry[], now: number): LogEntry[] {
  return entries.filter((entry) => inWindow(entry.at, now));
}

/** How an answer changes what the isolate holds. */
export type MergePlan = {
  /** Forget every entry held before adding (a new epoch: the old cursor means nothing). */
  reset: boolean;
  /** The entries to add, all in the window. */
  add: LogEntry[];
  /** The state held afterwards. */
  state: HeldState;
};

/**
 * Merges a replica's answer into the held state (cursor merge). `readAt` is when the read
 * started. An answer from another epoch replaces the set; an answer older than the set held
 * (a slower read that started earlier) changes nothing, so the set never goes back in time.
 */
export function planMerge(held: HeldState | undefined, answer: LogAnswer, readAt: number, now: number): MergePlan {
  const add = pruneWindow(answer.entries, now);
  if (!held || held.epoch !== answer.epoch) {
    return { reset: true, add, state: { epoch: answer.epoch, cursor: answer.seq, readAt } };
  }
  if (readAt < held.readAt) return { reset: false, add: [], state: held };
  return {
    reset: false,
    add: add.filter((entry) => entry.seq > held.cursor),
    state: { epoch: held.epoch, cursor: Math.max(held.cursor, answer.seq), readAt },
  };
}

/**
 * Whether a token can be judged by the recent set: a session token of Clerk's lifetime or
 * less, not used past its expiry. Minted long-lived tokens, and the expired token a refresh is
 * authenticated by, keep the per-user check (its session may have ended before the window).
 */
export function coveredByWindow(token: { iat: number; exp: number }, nowMs: number): boolean {
  return (
    token.exp - token.iat <= COVERED_TOKEN_LIFETIME_SECONDS && (token.exp + COVERED_CLOCK_SKEW_SECONDS) * 1000 > nowMs
  );
}
