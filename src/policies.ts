import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";
import { ApiError, rateLimited } from "./errors";
import { limitOrThrow, RATE_LIMITS } from "./rate-limit";

/**
 * @module
 * Policies that sit between authentication and the operation: per-user abuse limits on
 * writes, and the recent-verification rule for removing another device.
 */

/** Revoke, refresh and token minting: per user, with the RL_USER_WRITES binding. */
export const limitUserWrites = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.var.principal;
    if (principal?.kind === "user") {
      await limitOrThrow(
        c.env.RL_USER_WRITES,
        `user:${principal.userId}`,
        (retryAfter) => rateLimited(retryAfter, "Too many session changes for this user; retry later"),
        RATE_LIMITS.RL_USER_WRITES.period,
      );
    }
    await next();
  });

/**
 * Removing another device is sensitive (Clerk's own UI asks for reverification first):
 * the caller's first factor must have been verified recently (`fva[0]`, in minutes).
 * Signing out of the current session is always allowed.
 */
export function requireRecentFirstFactor(c: Context<AppEnv>, targetSessionId: string) {
  const principal = c.var.principal;
  const maxAge = c.var.config.revokeMaxFactorAgeMinutes;
  if (principal.kind !== "user" || maxAge === 0 || targetSessionId === principal.sessionId) return;
  const firstFactorAge = principal.claims.fva?.[0];
  if (firstFactorAge !== undefined && firstFactorAge >= 0 && firstFactorAge <= maxAge) return;
  throw new ApiError(403, [
    {
      code: "session_reverification_required",
      message: "Reverification required",
      long_message: `Verify your identity again to remove another device (first factor within the last ${maxAge} minutes).`,
      meta: { reverification: { level: "first_factor", after_minutes: maxAge } },
    },
  ]);
}
