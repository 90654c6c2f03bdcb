/**
 * @module
 * This isolate's copy of the recent revocations (docs/directory.md, "Recent revocations per
 * location"): every session revoked anywhere in the last RECENT_WINDOW_MS, read from the
 * revocation log replica of this isolate's region with a cursor, at most once per
 * RECENT_REFRESH_MS (jittered), one read at a time. A session token of Clerk's 60 s lifetime
 * is judged against it with no I/O; the set answers nothing once it is older than
 * RECENT_MAX_STALE_MS (or cannot hold the whole window), and the caller then applies the
 * per-user check. The rules themselves are pure (recent-rules.ts).
 */
import { now as clockNow } from "../core/clock";
import { ENTRY_OVERHEAD_BYTES, fixedBytes, ISOLATE_MEMORY, isolateMap } from "../core/isolate-memory";
import { log } from "../core/log";
import { countLogRead } from "../core/memory-stats";
import { keepAlive } from "../core/wait-until";
import { DIRECTORY_TIMEOUT_MS, describeFailure, withDeadline } from "./directory-client";
import {
  freshness,
  type HeldState,
  type LogAnswer,
  planMerge,
  RECENT_MAX_STALE_MS,
  RECENT_WINDOW_MS,
  refreshAfter,
} from "./recent-rules";
import type { RevocationLog } from "./revocation-log";

/** The `REVOCATION_LOG` binding (optional: without it every check is the per-user one). */
export type RevocationLogNamespace = DurableObjectNamespace<RevocationLog>;

/**
 * One log replica per Durable Objects location hint: every append goes to all of them, an
 * isolate reads the one of its region (docs/directory.md; the scale model's `replicas`).
 */
export const REVOCATION_LOG_REPLICAS = ["enam", "wnam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type ReplicaHint = (typeof REVOCATION_LOG_REPLICAS)[number];

/**
 * The recent set: session ids (and user ids whose session list changed), each kept until it
 * leaves the window, to when this isolate learnt of it (its own clock).
 */
const recentSet = isolateMap<string, number>("recentRevocations", fixedBytes(8));
/**
 * The cursor of the set (one entry): the replica read, its epoch and position, when the read
 * started, and whether the window overflowed the set. Forgetting it forgets the set's
 * freshness: the next check reads the whole window again.
 */
type Cursor = { state: HeldState; replica: ReplicaHint; overflowed: boolean };
const cursorMemory = isolateMap<"cursor", Cursor>("recentCursor", fixedBytes(96));
/**
 * After a failed read, requests whose set is too old do not wait on the log again for this
 * long: they take the per-user check at once, so a log that hangs costs one wait per isolate
 * per interval, not one per request.
 */
export const RECENT_RETRY_MS = 1_000;
const readFailures = isolateMap<"failure", true>("recentReadFailures", fixedBytes(8));
let refreshAge = refreshAfter(Math.random());
/** The one read in flight, with when it started (wall time: a read whose request is gone never settles). */
let inflight: { promise: Promise<boolean>; startedAt: number } | undefined;
/** This isolate's region, from the first request that told it (request.cf); enam until then. */
let region: ReplicaHint = "enam";
let regionKnown = false;

const replicaName = (hint: ReplicaHint) => `revocation-log:${hint}`;

function replicaStub(namespace: RevocationLogNamespace, hint: ReplicaHint) {
  return namespace.get(namespace.idFromName(replicaName(hint)), { locationHint: hint });
}

/** Picks this isolate's replica from a request's `cf` (continent, longitude); once per isolate. */
export function noteRegion(cf: unknown): void {
  if (regionKnown || !cf || typeof cf !== "object") return;
  regionKnown = true;
  const { continent, longitude } = cf as { continent?: unknown; longitude?: unknown };
  const west = typeof longitude === "string" && Number(longitude) < -100;
  const byContinent: Record<string, ReplicaHint> = {
    NA: west ? "wnam" : "enam",
    SA: "sam",
    EU: "weur",
    AS: "apac",
    OC: "oc",
    AF: "afr",
  };
  region = (typeof continent === "string" && byContinent[continent]) || "enam";
}

/**
 * Appends to every replica; resolves once all have it (a revoke is reported done only then),
 * rejects when one could not take it. Keys are session ids, or user ids for a changed list.
 */
export async function appendRecent(namespace: RevocationLogNamespace, keys: string[]): Promise<void> {
  const results = await Promise.allSettled(
    REVOCATION_LOG_REPLICAS.map((hint) => withDeadline(replicaStub(namespace, hint).append(keys))),
  );
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  // What this isolate appended it knows at once.
  const now = clockNow();
  for (const key of keys) learn(key, now, now);
}

export type RecentVerdict = "revoked" | "clear" | "unknown";

/**
 * The recent set's answer for `key` (a session id): "revoked" or "clear" from a set young
 * enough, starting a background refresh past the jittered refresh age; when the set is older
 * than RECENT_MAX_STALE_MS (or there is none), waits for one read; "unknown" when that read
 * failed or the window does not fit: the caller applies the per-user check.
 */
export async function recentVerdict(namespace: RevocationLogNamespace, key: string): Promise<RecentVerdict> {
  const state = usable(clockNow());
  if (state === "refresh") keepAlive(refresh(namespace));
  else if (state === "stale") {
    if (readFailures.has("failure")) return "unknown";
    await refresh(namespace);
    if (usable(clockNow()) === "stale") return "unknown";
  }
  return recentSet.has(key) ? "revoked" : "clear";
}

/** True when the set is young enough to answer (no I/O, no refresh started). */
export function recentSetUsable(now = clockNow()): boolean {
  return usable(now) !== "stale";
}

/** True when `key` is in the set, usable or not: an entry there is a revocation, whatever the set's age. */
export function knownRecentlyRevoked(key: string): boolean {
  return recentSet.has(key);
}

/** When this isolate learnt that `userId`'s session list changed (in the window), if the set is usable. */
export function listChangeLearntAt(userId: string): number | undefined {
  return recentSetUsable() ? recentSet.get(userId) : undefined;
}

function usable(now: number) {
  const cursor = cursorMemory.get("cursor", now);
  if (!cursor || cursor.overflowed || cursor.replica !== region) return "stale";
  return freshness(cursor.state, now, refreshAge);
}

/** Starts a read, or joins the one in flight (unless it is older than a read may take: its request is gone). */
function refresh(namespace: RevocationLogNamespace): Promise<boolean> {
  const wall = Date.now();
  if (inflight && wall - inflight.startedAt <= DIRECTORY_TIMEOUT_MS + RECENT_MAX_STALE_MS) return inflight.promise;
  const promise = read(namespace).finally(() => {
    if (inflight?.promise === promise) inflight = undefined;
  });
  inflight = { promise, startedAt: wall };
  return promise;
}

async function read(namespace: RevocationLogNamespace): Promise<boolean> {
  const hint = region;
  const readAt = clockNow();
  const cursor = cursorMemory.get("cursor", readAt);
  const sameReplica = cursor?.replica === hint ? cursor.state : undefined;
  countLogRead();
  let answer: LogAnswer;
  try {
    answer = await withDeadline(
      replicaStub(namespace, hint).since(sameReplica?.cursor ?? 0, sameReplica?.epoch ?? null) as Promise<LogAnswer>,
    );
  } catch (error) {
    log("warn", {
      msg: "revocation_log_unreachable",
      replica: hint,
      held_age_ms: cursor ? clockNow() - cursor.state.readAt : null,
      error: describeFailure(error),
    });
    readFailures.set("failure", true, RECENT_RETRY_MS);
    return false;
  }
  const now = clockNow();
  const plan = planMerge(sameReplica, answer, readAt, now);
  if (plan.reset) recentSet.clear();
  const { maxEntries, maxBytes } = ISOLATE_MEMORY.recentRevocations;
  const overflowed = answer.count > maxEntries || answer.count * RECENT_ENTRY_BYTES > maxBytes;
  if (overflowed) log("warn", { msg: "revocation_log_overflow", count: answer.count, max_entries: maxEntries });
  for (const entry of plan.add) learn(entry.sid, entry.at, now);
  cursorMemory.set("cursor", { state: plan.state, replica: hint, overflowed }, Number.POSITIVE_INFINITY, now);
  readFailures.delete("failure");
  refreshAge = refreshAfter(Math.random());
  return true;
}

/** What one entry of the set costs at most as the registry counts it (an id of up to 48 characters). */
const RECENT_ENTRY_BYTES = 48 + 8 + ENTRY_OVERHEAD_BYTES;

function learn(key: string, at: number, now: number) {
  recentSet.set(key, now, at + RECENT_WINDOW_MS - now, now);
}
