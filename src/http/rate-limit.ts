import type { Context } from "hono";
import { limitOrThrow, RATE_LIMITS } from "../config/rate-limits";
import type { GatewayConfig } from "../config/settings";
import { clientAddress } from "../core/client-address";
import { rateLimited } from "../core/errors";
import type { AppEnv } from "./app-env";

/**
 * @module
 * The gateway's abuse limits, on the Workers Rate Limiting binding. Their numbers (config/rate-limits.ts) are
 * the ones declared in wrangler.toml (`[[ratelimits]]`; a test checks the two agree), so the
 * `Retry-After` the gateway sends can be derived from the binding's period.
 *
 * The binding counts per Cloudflare location in fixed windows aligned to the clock, and
 * only says yes or no: a refused caller can safely retry once the current window is over,
 * which is at most `period` seconds away, so that is the `Retry-After` sent.
 */
export type LimiterName = keyof typeof RATE_LIMITS;

declare module "hono" {
  interface ContextVariableMap {
    /**
     * Whose share of the upstream budget this request spends, when it is not simply the
     * authenticated caller: a refresh authenticated by an old token is charged to the address
     * it came from, since anyone who ever held that token can send it.
     */
    upstreamCaller: string;
  }
}

/** The request's client address (core/client-address.ts). */
export const clientIp = (c: Context<AppEnv>): string => clientAddress(c.req.raw.headers);

/** The caller whose share an upstream call spends: the request's override, else who authenticated, else the address. */
export function upstreamCallerOf(c: Context<AppEnv>): string {
  const override = c.get("upstreamCaller");
  if (override) return override;
  const principal = c.get("principal");
  if (principal?.kind === "user") return `user:${principal.userId}`;
  if (principal?.kind === "service") return `service:${principal.keyIndex}`;
  return `ip:${clientIp(c)}`;
}

/**
 * Keeps the gateway's calls under Clerk's Backend-API limit (per instance, 1000 per 10 s in
 * production, 100 in development) and shares that budget out, checked in this order, each
 * refusal before the next is counted and before anything leaves the Worker:
 * 1. the caller's own share (reads and writes counted apart);
 * 2. for a read request, the reads' pool, which leaves the writes' reserve alone;
 * 3. the instance's whole budget.
 * So one caller's reads can fill neither pool, and no amount of reads can refuse a write.
 * A refused read of a cached list degrades to STALE.
 */
export async function guardUpstream(c: Context<AppEnv>, config: GatewayConfig): Promise<void> {
  const production = config.instanceType === "production";
  // By the request, not the call: the reads a write makes (its ownership check, the read-back
  // of a lost revoke) belong to the write and use its reserve.
  const kind = c.req.method === "GET" || c.req.method === "HEAD" ? "read" : "write";
  const instance = `clerk-backend-api:${config.issuer}`;
  const caller = production ? "RL_UPSTREAM_CALLER_PRODUCTION" : "RL_UPSTREAM_CALLER_DEVELOPMENT";
  await limitOrThrow(
    c.env[caller],
    `${instance}|${upstreamCallerOf(c)}|${kind}`,
    (retryAfter) => rateLimited(retryAfter, "Too many calls to Clerk from this caller; retry later"),
    RATE_LIMITS[caller].period,
  );
  const refuse = (retryAfter: number) =>
    rateLimited(retryAfter, "The gateway is holding its calls to Clerk under Clerk's rate limit; retry later");
  if (kind === "read") {
    const reads = production ? "RL_UPSTREAM_READS_PRODUCTION" : "RL_UPSTREAM_READS_DEVELOPMENT";
    await limitOrThrow(c.env[reads], `${instance}|reads`, refuse, RATE_LIMITS[reads].period);
  }
  const total = production ? "RL_UPSTREAM_PRODUCTION" : "RL_UPSTREAM_DEVELOPMENT";
  await limitOrThrow(c.env[total], instance, refuse, RATE_LIMITS[total].period);
}
