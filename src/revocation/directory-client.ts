import { ApiError } from "../core/errors";
import { joinWithin } from "../core/single-flight";
import type { SessionDirectory } from "./session-directory";

/** The `SESSION_DIRECTORY` binding (optional: without it the gateway runs on KV markers alone). */
export type DirectoryNamespace = DurableObjectNamespace<SessionDirectory>;

/**
 * How long one call to a user's object may take before the gateway treats the object as
 * unreachable. A lookup is one SQLite read in an object near the user's first request: a
 * few milliseconds, or one intercontinental round trip (~300 ms) for a travelling user.
 */
export const DIRECTORY_TIMEOUT_MS = 1_000;

/** The user's object: one per user, so every location asks the same one. */
export function directoryFor(namespace: DirectoryNamespace, name: string) {
  return namespace.get(namespace.idFromName(name));
}

/** `call`'s result, or a rejection once DIRECTORY_TIMEOUT_MS passed (the call itself may still land). */
export async function withDeadline<T>(call: Promise<T>, ms = DIRECTORY_TIMEOUT_MS): Promise<T> {
  const answer = await joinWithin(call, ms);
  if (!answer) throw new Error(`no answer from the session directory within ${ms} ms`);
  return answer.value;
}

/** 503 in Clerk's envelope: the object that must record or confirm this could not be reached. */
export const directoryUnavailable = (longMessage: string, retryAfterSeconds = 5) =>
  new ApiError(
    503,
    [{ code: "directory_unavailable", message: "Session directory unavailable", long_message: longMessage }],
    { headers: { "Retry-After": String(retryAfterSeconds) } },
  );

/** A short, secret-free description of a failed call, for the log line. */
export const describeFailure = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : "unknown error";
