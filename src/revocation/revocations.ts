import { now as clockNow } from "../core/clock";
import { fixedBytes, isolateMap, REVOCATION_NEGATIVE_MEMORY_MS } from "../core/isolate-memory";
import { log } from "../core/log";
import { countDirectoryRead, countLookup } from "../core/memory-stats";
import { keepAlive } from "../core/wait-until";
import { kvKeys, REVOCATION_TTL_SECONDS, type RevocationEntry } from "../storage/kv-schema";
import { queuedValue, writeCoalesced } from "../storage/kv-writer";
import {
  type DirectoryNamespace,
  describeFailure,
  directoryFor,
  directoryUnavailable,
  withDeadline,
} from "./directory-client";
import { appendRecent, type RevocationLogNamespace, recentVerdict } from "./recent";
import { coveredByWindow } from "./recent-rules";

/**
 * @module
 * Sessions the gateway must refuse even though their tokens still verify (Clerk keeps a
 * revoked session's token valid for up to 60 s, a minted one up to its `expires_in_seconds`).
 *
 * Where a revocation lives, strongest first:
 * - this isolate's memory: exact at once for what this isolate recorded or learnt;
 * - the user's `SessionDirectory` object (binding SESSION_DIRECTORY): one place for the whole
 *   world, so a revocation recorded there is seen everywhere on the next lookup;
 * - KV markers (`revoked:v1:{session_id}`): written too, read only without the binding or while
 *   the object cannot be reached. KV takes up to 60 s to carry a marker to other locations.
 *
 * "Not revoked" is believed from memory for REVOCATION_NEGATIVE_MEMORY_MS (1 s), so a session
 * revoked anywhere is refused everywhere within 1 s plus one round trip to its user's object
 * (with KV alone: 1 s plus KV's propagation). docs/security.md, "Revocation bound".
 */
const revokedHere = isolateMap<string, true>("revokedHere", fixedBytes(1));
/** Session ids with no revocation marker in KV at the time of the lookup. */
const notRevokedMemory = isolateMap<string, true>("notRevoked", fixedBytes(1));
/**
 * KV caches reads at each location (60 s by default), including "not found": an isolate that
 * checked a session before it was revoked elsewhere could keep seeing no marker that long.
 * 30 s is KV's minimum, so a marker written anywhere is seen everywhere within about 30 s of
 * reaching KV's central store (KV documents up to 60 s in all).
 */
export const REVOCATION_READ_CACHE_TTL_SECONDS = 30;

/**
 * When a user's object cannot be reached, the check falls back to KV markers (the weaker bound)
 * for at most this long per user and isolate, counted from the first failure of an unbroken run
 * of failures; after that the user's requests are refused with 503 until the object answers.
 * 60 s is Clerk's own token life: the fallback never lasts longer than the window Clerk itself
 * leaves open after a revocation. Every fallback is logged and marked in the request log.
 */
export const DIRECTORY_FALLBACK_MAX_MS = 60_000;
/**
 * A run of failures ends when the object answers, or after this long without a failure (the
 * next failure then starts a new run). Longer than the fallback, so a user with a request every
 * few minutes still meets the bound instead of starting a fresh run each time.
 */
export const DIRECTORY_FAILURE_QUIET_MS = 10 * 60_000;
/** Per user: when the current run of failures to reach the object began. */
const directoryDownSince = isolateMap<string, number>("directoryFailures", fixedBytes(8));

export type RevocationSource = RevocationEntry["source"];

/** What the check needs from the environment: KV always, the object when it is bound. */
export type RevocationBindings = {
  SESSION_CACHE: KVNamespace;
  SESSION_DIRECTORY?: DirectoryNamespace | undefined;
  /** The revocation log replicas (docs/directory.md): with it, Clerk's 60 s tokens are checked with no I/O. */
  REVOCATION_LOG?: RevocationLogNamespace | undefined;
};

/**
 * How the object answered, when it did not answer normally, for the request log:
 * `fallback` (unreachable, KV markers consulted instead) or `refused` (unreachable for longer
 * than DIRECTORY_FALLBACK_MAX_MS: the request was answered 503).
 */
export type DirectoryOutcome = "fallback" | "refused";
export type RevocationMetrics = {
  directory?: DirectoryOutcome;
  /** "unavailable": the recent set was too old and could not be read; the per-user check answered. */
  recent?: "unavailable";
};

/**
 * The token being checked, when the caller has it: a token the recent set covers
 * (`coveredByWindow`: Clerk's lifetime or less, not past its expiry) is judged by the set.
 * Without it the check is the per-user one.
 */
export type RevocationToken = { iat: number; exp: number };

/**
 * Records that a session is over: in this isolate at once, in the user's object, and as a KV
 * marker. Resolves once the object has recorded it (a revoke is only reported done then);
 * rejects with 503 `directory_unavailable` when the object (or the revocation log) could not
 * record it. With the object, the KV marker is written off the response path (`keepAlive`): it
 * is read here at once (the queued value), elsewhere only while the object cannot be reached,
 * and KV's own propagation (up to 60 s) dwarfs the write. Without the object the marker is the
 * record, and is waited for. A failed marker is a log line either way.
 */
export async function markRevoked(
  env: RevocationBindings,
  userId: string | undefined,
  sessionId: string,
  status: string,
  source: RevocationSource,
  options: { inDirectory?: boolean } = {},
): Promise<void> {
  rememberRevoked(sessionId);
  const entry: RevocationEntry = { revoked_at: Date.now(), status, source };
  const marker = writeCoalesced(
    env.SESSION_CACHE,
    kvKeys.revoked(sessionId),
    JSON.stringify(entry),
    REVOCATION_TTL_SECONDS,
  ).catch((error) =>
    log("warn", { msg: "revocation_marker_failed", session_id: sessionId, error: describeFailure(error) }),
  );
  // Without the object the marker is the only record other isolates read: it is waited for.
  if (!env.SESSION_DIRECTORY) await marker;
  else keepAlive(marker);
  const namespace = env.SESSION_DIRECTORY;
  if (namespace && !userId) {
    // Clerk always names a session's user; without one there is no object to record in.
    log("warn", { msg: "revocation_without_user", session_id: sessionId, source });
  }
  if (namespace && userId && !options.inDirectory) {
    try {
      await withDeadline(directoryFor(namespace, userId).recordRevoked(sessionId, status, source));
    } catch (error) {
      log("warn", {
        msg: "directory_record_failed",
        session_id: sessionId,
        user_id: userId,
        source,
        error: describeFailure(error),
      });
      throw directoryUnavailable(
        "Clerk ended the session, but the gateway could not record it everywhere yet; retry the request",
      );
    }
  }
  // After the authority recorded it, and before the revoke is reported done: the recent set of
  // every location learns of it from the log.
  if (!env.REVOCATION_LOG) return;
  try {
    await appendRecent(env.REVOCATION_LOG, [sessionId]);
  } catch (error) {
    log("warn", { msg: "revocation_log_append_failed", session_id: sessionId, source, error: describeFailure(error) });
    // Not reported done; still, other isolates should learn of it without waiting for a retry.
    keepAlive(retryAppend(env.REVOCATION_LOG, sessionId));
    throw directoryUnavailable(
      "Clerk ended the session, but the gateway could not record it everywhere yet; retry the request",
    );
  }
}

/** Appends again after a failed append: up to APPEND_RETRIES more times, APPEND_RETRY_MS apart. */
const APPEND_RETRIES = 3;
const APPEND_RETRY_MS = 1_000;
async function retryAppend(namespace: RevocationLogNamespace, sessionId: string): Promise<void> {
  for (let attempt = 1; attempt <= APPEND_RETRIES; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, APPEND_RETRY_MS));
    try {
      await appendRecent(namespace, [sessionId]);
      return;
    } catch (error) {
      if (attempt === APPEND_RETRIES)
        log("warn", { msg: "revocation_log_append_abandoned", session_id: sessionId, error: describeFailure(error) });
    }
  }
}

/** True when this isolate knows of the revocation: no I/O. */
export function isRevokedHere(sessionId: string): boolean {
  return revokedHere.has(sessionId);
}

/**
 * The check every authenticated request makes (gateway routes, refresh's `expired_token`, the
 * middleware): memory; then, for a `token` the recent set covers (REVOCATION_LOG bound), the
 * isolate's recent revocations, with no I/O while the set is young (src/revocation/recent.ts);
 * otherwise, or when the set cannot be read, the user's object (or KV markers without the
 * binding). At most one lookup per session per REVOCATION_NEGATIVE_MEMORY_MS per isolate
 * leaves the isolate on that path.
 * Throws 503 `directory_unavailable` once the object has been unreachable for longer than
 * DIRECTORY_FALLBACK_MAX_MS.
 */
export async function isRevoked(
  env: RevocationBindings,
  userId: string,
  sessionId: string,
  metrics?: RevocationMetrics,
  token?: RevocationToken,
): Promise<boolean> {
  if (isRevokedHere(sessionId)) return true;
  const key = kvKeys.revoked(sessionId);
  if (typeof queuedValue(key) === "string") return true;
  const recentLog = env.REVOCATION_LOG;
  if (recentLog && token && coveredByWindow(token, clockNow())) {
    const verdict = await recentVerdict(recentLog, sessionId);
    if (verdict !== "unknown") {
      countLookup("revocations", true);
      if (verdict === "revoked") rememberRevoked(sessionId);
      return verdict === "revoked";
    }
    // The set could not be read in time: the per-user check below, with its own bounds.
    if (metrics) metrics.recent = "unavailable";
  }
  if (countLookup("revocations", notRevokedMemory.get(sessionId))) return false;

  const namespace = env.SESSION_DIRECTORY;
  if (namespace) {
    countDirectoryRead();
    try {
      const revoked = await withDeadline(directoryFor(namespace, userId).isRevoked(sessionId));
      directoryDownSince.delete(userId);
      return remember(sessionId, revoked);
    } catch (error) {
      // Refuses (503) past the bound; otherwise marks the request and falls through to KV.
      degrade(userId, sessionId, error, metrics);
    }
  }
  return remember(sessionId, await readMarker(env.SESSION_CACHE, key));
}

function degrade(userId: string, sessionId: string, error: unknown, metrics: RevocationMetrics | undefined) {
  const now = clockNow();
  const since = directoryDownSince.get(userId, now) ?? now;
  directoryDownSince.set(userId, since, DIRECTORY_FAILURE_QUIET_MS, now);
  const downMs = now - since;
  const refused = downMs >= DIRECTORY_FALLBACK_MAX_MS;
  if (metrics) metrics.directory = refused ? "refused" : "fallback";
  log("warn", {
    msg: refused ? "directory_unreachable_refused" : "directory_unreachable_fallback",
    user_id: userId,
    session_id: sessionId,
    down_ms: downMs,
    fallback_max_ms: DIRECTORY_FALLBACK_MAX_MS,
    error: describeFailure(error),
  });
  if (refused) {
    throw directoryUnavailable("The gateway cannot confirm this session is still valid right now; retry shortly");
  }
}

async function readMarker(kv: KVNamespace, key: string): Promise<boolean> {
  try {
    // Any marker counts, even one that no longer parses: refusing is the safe side of a revocation.
    return (await kv.get(key, { type: "text", cacheTtl: REVOCATION_READ_CACHE_TTL_SECONDS })) !== null;
  } catch {
    // KV unreachable: this isolate's memory is all there is (docs/security.md); nothing is remembered.
    return false;
  }
}

/** Keeps the answer: a revocation for as long as its marker, "not revoked" for 1 s. */
function remember(sessionId: string, revoked: boolean): boolean {
  if (revoked) rememberRevoked(sessionId);
  else notRevokedMemory.set(sessionId, true, REVOCATION_NEGATIVE_MEMORY_MS);
  return revoked;
}

function rememberRevoked(sessionId: string) {
  notRevokedMemory.delete(sessionId);
  revokedHere.set(sessionId, true, REVOCATION_TTL_SECONDS * 1000);
}
