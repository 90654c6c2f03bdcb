import type { ApiError } from "./errors";

/**
 * @module
 * The gateway's abuse limits, on the Workers Rate Limiting binding. These numbers are the
 * ones declared in wrangler.toml (`[[ratelimits]]`; a test checks the two agree), so the
 * `Retry-After` the gateway sends can be derived from the binding's period.
 *
 * The binding counts per Cloudflare location in fixed windows aligned to the clock, and
 * only says yes or no: a refused caller can safely retry once the current window is over,
 * which is at most `period` seconds away, so that is the `Retry-After` sent.
 */
export type Limiter = { limit: number; period: 10 | 60 };

export const RATE_LIMITS = {
  /** Revoke, refresh and token minting, per user. clerk-js refreshes each session every 50 s; 20 a minute leaves room for several devices. */
  RL_USER_WRITES: { limit: 20, period: 60 },
  /** Failed authentication, per client IP (CF-Connecting-IP). */
  RL_AUTH_FAILURES: { limit: 20, period: 60 },
  /**
   * The gateway's own calls to Clerk's Backend API, one key per instance. Clerk allows 1000
   * per 10 s on production instances and 100 on development ones (docs/clerk-contract.md §5);
   * the guard stops at 90 % of that: the binding counts per location and is approximate, and
   * other code (the operator's own backend) shares the same Clerk limit.
   */
  RL_UPSTREAM_PRODUCTION: { limit: 900, period: 10 },
  RL_UPSTREAM_DEVELOPMENT: { limit: 90, period: 10 },
} as const satisfies Record<string, Limiter>;

export type LimiterName = keyof typeof RATE_LIMITS;

/**
 * Counts one hit on `key`; refuses with the caller's error (a 429 with Retry-After, in Clerk's
 * envelope) once the window is full. An unbound limiter means no limit of that kind, so a
 * deployment without the bindings keeps working (the README's configuration says so).
 */
export async function limitOrThrow(
  limiter: RateLimit | undefined,
  key: string,
  error: (retryAfterSeconds: number) => ApiError,
  retryAfterSeconds: number,
): Promise<void> {
  if (!limiter) return;
  const { success } = await limiter.limit({ key });
  if (!success) throw error(retryAfterSeconds);
}
