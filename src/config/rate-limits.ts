/**
 * @module
 * The numbers of the gateway's abuse limits, as wrangler.toml declares them (`[[ratelimits]]`;
 * a test checks the two agree), and how one is counted (`limitOrThrow`). A module of its own,
 * importing only a type, so the test configuration (vitest.config.ts, loaded by Node) reads the
 * same numbers without loading the gateway. The upstream guard that applies several: http/rate-limit.ts.
 */
import type { ApiError } from "../core/errors";

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
  /**
   * Reads (GET) may use two thirds of the instance's budget and no more: the last third is
   * kept for writes, so however many reads are made, a sign-out or a refresh still gets through.
   */
  RL_UPSTREAM_READS_PRODUCTION: { limit: 600, period: 10 },
  RL_UPSTREAM_READS_DEVELOPMENT: { limit: 60, period: 10 },
  /**
   * One caller's share (a user, a service key, or an address for calls made before anyone is
   * authenticated), counted apart for reads and for writes: a third of the reads' pool and two
   * thirds of the writes' reserve, so no single caller can empty either pool for the others.
   * Never below RL_USER_WRITES: a user's allowed writes all fit in one caller window.
   */
  RL_UPSTREAM_CALLER_PRODUCTION: { limit: 200, period: 10 },
  RL_UPSTREAM_CALLER_DEVELOPMENT: { limit: 20, period: 10 },
  /**
   * Requests forwarded to ORIGIN_URL, per user (per client IP on PUBLIC_PATHS). 600 a minute is
   * 10 a second sustained, several times what an interactive client makes (a page load is tens
   * of requests), so people never meet it, while a script holding one token cannot flood the
   * origin faster than that from any one location. Public paths share one count per address
   * (an office behind one NAT shares it too): serve heavy static assets from elsewhere.
   */
  RL_PROXY: { limit: 600, period: 60 },
} as const satisfies Record<string, Limiter>;

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
