import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { SessionClaims } from "./auth/principal";
import { SESSION_TOKEN_LIFETIME_SECONDS } from "./auth/session-token";
import { isolateMap, SESSION_STATUS_MEMORY_MS } from "./cache/memory";
import { markRevoked } from "./cache/revocations";
import { ClerkClient } from "./clerk/client";
import { now } from "./clock";
import type { AppEnv } from "./context";
import type { GatewayConfig } from "./env";
import { ApiError, invalidParam, rateLimited } from "./errors";
import { clientIp, guardUpstream, limitOrThrow, RATE_LIMITS } from "./rate-limit";

/**
 * @module
 * Policies that sit between authentication and the operation: per-user abuse limits on
 * writes, the recent-verification rule for removing another device, and the rules that keep
 * long-lived tokens from outliving their session.
 */

/** Session statuses read from Clerk for long-lived tokens, by session id (see endedLongLivedSession). */
const sessionStatusMemory = isolateMap<string, string>("sessionStatuses", (status) => status.length);

const userWritesRefused = (retryAfter: number) =>
  rateLimited(retryAfter, "Too many session changes for this user; retry later");

/** Revoke, refresh and token minting: per user, with the RL_USER_WRITES binding. */
export const limitUserWrites = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.var.principal;
    if (principal?.kind === "user") {
      await limitOrThrow(
        c.env.RL_USER_WRITES,
        `user:${principal.userId}`,
        userWritesRefused,
        RATE_LIMITS.RL_USER_WRITES.period,
      );
    }
    await next();
  });

/**
 * A refresh authenticated by `expired_token` proves only that the caller once held a token of
 * the session: a stolen or logged one will do. So its attempts are counted per session and
 * per address before Clerk is asked (RL_USER_WRITES, its own key), and the owner's write
 * allowance is spent only once Clerk has accepted the refresh token: an attacker's failed
 * tries never lock the owner out of their own writes.
 */
export async function limitRefreshAttempts(c: Context<AppEnv>, sessionId: string): Promise<void> {
  await limitOrThrow(
    c.env.RL_USER_WRITES,
    `refresh:${sessionId}:${clientIp(c)}`,
    (retryAfter) =>
      rateLimited(retryAfter, "Too many refresh attempts for this session from this address; retry later"),
    RATE_LIMITS.RL_USER_WRITES.period,
  );
}

/** After a successful refresh: the owner's allowance counts it like any other write, but it is never refused now. */
export async function chargeOwnerForRefresh(c: Context<AppEnv>, userId: string): Promise<void> {
  await c.env.RL_USER_WRITES?.limit({ key: `user:${userId}` });
}

/**
 * Removing another device is sensitive (Clerk's own UI asks for reverification first):
 * the caller's first factor must have been verified recently. `fva[0]` is the minutes since
 * that verification *when the token was minted*, so the token's age is added to it: an old
 * long-lived token minted right after sign-in does not count as a recent verification.
 * Signing out of the current session is always allowed.
 */
export function requireRecentFirstFactor(c: Context<AppEnv>, targetSessionId: string) {
  const principal = c.var.principal;
  const maxAge = c.var.config.revokeMaxFactorAgeMinutes;
  if (principal.kind !== "user" || maxAge === 0 || targetSessionId === principal.sessionId) return;
  const minutesAtMint = principal.claims.fva?.[0];
  if (minutesAtMint !== undefined && minutesAtMint >= 0) {
    const tokenAgeMinutes = Math.max(0, Math.floor((now() / 1000 - principal.claims.iat) / 60));
    if (minutesAtMint + tokenAgeMinutes <= maxAge) return;
  }
  throw new ApiError(403, [
    {
      code: "session_reverification_required",
      message: "Reverification required",
      long_message: `Verify your identity again to remove another device (first factor within the last ${maxAge} minutes).`,
      meta: { reverification: { level: "first_factor", after_minutes: maxAge } },
    },
  ]);
}

/**
 * Users mint tokens no longer-lived than USER_TOKEN_MAX_SECONDS (default 60 s, Clerk's own);
 * backend services keep Clerk's whole range.
 */
export function capUserTokenLifetime(c: Context<AppEnv>, expiresInSeconds: number | null | undefined) {
  const max = c.var.config.userTokenMaxSeconds;
  if (c.var.principal.kind === "user" && typeof expiresInSeconds === "number" && expiresInSeconds > max) {
    throw invalidParam("expires_in_seconds", `Users may mint tokens of at most ${max} seconds`);
  }
}

/**
 * A token that lives longer than Clerk's 60 s was minted on purpose, and may outlive its
 * session: a session that expires or is abandoned sends no webhook, so no revocation marker
 * exists. Its session's status is therefore asked of Clerk, and believed for
 * SESSION_STATUS_MEMORY_MS per session in this isolate; a session Clerk no longer reports as
 * active (whatever ended it, or gone altogether) is recorded as ended and the token refused.
 * Returns the ended status, or null when the token may be used. A failing Clerk fails the
 * request (the error propagates): such a token is never accepted unconfirmed.
 */
export async function endedLongLivedSession(c: Context<AppEnv>, claims: SessionClaims): Promise<string | null> {
  const sessions = c.get("sessions");
  return endedSessionStatus(claims, {
    config: c.var.config,
    // The proxy front door authenticates without the gateway's services: it gets a guarded client of its own.
    clerk: () =>
      sessions?.clerk ??
      new ClerkClient(c.var.config, {
        stats: c.var.metrics.upstream,
        beforeCall: () => guardUpstream(c, c.var.config),
      }),
    recordEnded: async (status) => {
      const recorded = sessions
        ? sessions.recordEnded(claims.sub, claims.sid, status, "gateway")
        : markRevoked(c.env, claims.sub, claims.sid, status, "gateway");
      // The token is refused either way; an object that could not record it (logged) learns of it
      // from the next check of this kind, which every long-lived token of the session goes through.
      await recorded.catch((error) => {
        if (!(error instanceof ApiError && error.code === "directory_unavailable")) throw error;
      });
    },
  });
}

/** The check above without a gateway request context, for the app middleware (`clerk-session-gateway/hono`). */
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
