import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { limitOrThrow, RATE_LIMITS } from "../config/rate-limits";
import { now } from "../core/clock";
import { ApiError, invalidParam, rateLimited } from "../core/errors";
import type { AppEnv } from "../http/app-env";
import { clientIp } from "../http/rate-limit";

/**
 * @module
 * Rules that sit between authentication and the operation: per-user abuse limits on writes,
 * the recent-verification rule for removing another device, and the lifetime cap on tokens
 * users mint. (Long-lived tokens are confirmed during authentication: auth/long-lived.ts.)
 */

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
