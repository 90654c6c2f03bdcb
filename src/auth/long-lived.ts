/**
 * @module
 * Long-lived session tokens (minted with a template to outlive Clerk's 60 s) are confirmed
 * with Clerk: no webhook tells the gateway when their session expires or is abandoned.
 */
import type { ClerkClient } from "../clerk/client";
import type { GatewayConfig } from "../config/settings";
import { ApiError } from "../core/errors";
import { isolateMap, SESSION_STATUS_MEMORY_MS } from "../core/isolate-memory";
import type { SessionClaims } from "./principal";
import { SESSION_TOKEN_LIFETIME_SECONDS } from "./session-token";

/** Session statuses read from Clerk for long-lived tokens, by session id. */
const sessionStatusMemory = isolateMap<string, string>("sessionStatuses", (status) => status.length);

/**
 * A token that lives longer than Clerk's 60 s was minted on purpose, and may outlive its
 * session: a session that expires or is abandoned sends no webhook, so no revocation marker
 * exists. Its session's status is therefore asked of Clerk, and believed for
 * SESSION_STATUS_MEMORY_MS per session in this isolate; a session Clerk no longer reports as
 * active (whatever ended it, or gone altogether) is recorded as ended and the token refused.
 * Returns the ended status, or null when the token may be used. A failing Clerk fails the
 * check (the error propagates): such a token is never accepted unconfirmed.
 */
export async function endedSessionStatus(
  claims: SessionClaims,
  deps: {
    config: GatewayConfig;
    clerk: () => ClerkClient;
    recordEnded: (status: string) => Promise<unknown>;
  },
): Promise<string | null> {
  if (claims.exp - claims.iat <= SESSION_TOKEN_LIFETIME_SECONDS) return null;
  let status = sessionStatusMemory.get(claims.sid);
  if (status === undefined) {
    try {
      status = (await deps.clerk().getSession(claims.sid)).status;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      status = "removed";
    }
    sessionStatusMemory.set(claims.sid, status, SESSION_STATUS_MEMORY_MS);
  }
  if (status === "active" || (status === "pending" && deps.config.allowPendingSessions)) return null;
  // A pending session has not ended: refused as pending, but not marked revoked.
  if (status !== "pending") await deps.recordEnded(status);
  return status;
}
