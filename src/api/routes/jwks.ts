import { Hono } from "hono";
import { jwksStoreFor } from "../../auth/jwks";
import { assertionKeys } from "../../auth/origin-assertion";
import { ClerkClient } from "../../clerk/client";
import { notFound } from "../../core/errors";
import { waitUntilOf } from "../../core/wait-until";
import type { AppEnv } from "../../http/app-env";

/**
 * `GET /v1/jwks`: Clerk's signing keys as the gateway holds them (isolate memory, then KV,
 * then Clerk), so `@clerk/backend`'s `verifyToken` and `authenticateRequest` with
 * `apiUrl` = the gateway verify networklessly against the same keys the gateway trusts.
 *
 * Public: a JWKS is public data, and the SDK sends its secret key (here a service key)
 * with the request, which is not checked, so a verifier configured with any key works.
 * An anonymous caller can make an isolate ask Clerk at most once per refetch interval.
 */
export const jwks = new Hono<AppEnv>();

/**
 * Five minutes in shared caches: short enough that a key Clerk adds reaches downstream
 * verifiers quickly (the SDK refetches on an unknown `kid` anyway), long enough to absorb
 * every verifier of a fleet asking at once.
 */
export const JWKS_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=60";

jwks.get("/", async (c) => {
  const config = c.var.config;
  const { keys } = await jwksStoreFor(config.apiUrl).publicJwks({
    kv: c.env.SESSION_CACHE,
    // Not counted against the upstream guard, like the gateway's own key lookups: Clerk does
    // not rate-limit /v1/jwks and the store bounds how often it is asked.
    clerk: () => new ClerkClient(config, { guard: { unguarded: "jwks" }, stats: c.var.metrics.upstream }),
    waitUntil: waitUntilOf(c),
  });
  return c.json({ keys }, 200, { "Cache-Control": JWKS_CACHE_CONTROL });
});

/**
 * `GET /.well-known/gateway-jwks.json`: the public keys an origin behind the proxy verifies
 * the gateway's `X-Gateway-Assertion` with (src/auth/origin-assertion.ts). Public, cached like
 * Clerk's keys; a 404 naming the setting when the gateway signs no assertions.
 */
export const assertionJwks = new Hono<AppEnv>();

assertionJwks.get("/", async (c) => {
  const pems = c.var.config.proxy?.assertionKeys;
  if (!pems) throw notFound("This gateway signs no origin assertions: set ORIGIN_ASSERTION_KEYS (proxy mode)");
  const { published } = await assertionKeys(pems);
  return c.json({ keys: published }, 200, { "Cache-Control": JWKS_CACHE_CONTROL });
});
