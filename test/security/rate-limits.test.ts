import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RATE_LIMITS } from "../../src/config/rate-limits";
import { registeredMap } from "../../src/core/isolate-memory";
import { kvKeys } from "../../src/storage/kv-schema";
import wranglerToml from "../../wrangler.toml?raw";
import { TEST_SERVICE_KEYS } from "../support/config";
import { clearCalls, freshToken, SEED, signIn, upstreamCalls } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { type CallOptions, callWith, errorBody, kvJson, SERVICE_KEY } from "../support/gateway";
import { expectSignOutReachesClerk } from "./routes";

/**
 * The Workers Rate Limiting bindings at their production numbers. The suite's own bindings
 * are sized so no parallel file can exhaust them (vitest.config.ts); here the gateway runs
 * with RL_TEST_* bindings, declared from the same constants wrangler.toml is checked against.
 * Windows are fixed and aligned to the clock, so a limit is "reached within 2 × limit + 1
 * attempts" (a window may roll over mid-test), never more.
 */

type TestEnv = typeof env & Record<string, RateLimit>;
const testEnv = env as TestEnv;

function limitedEnv(overrides: Record<string, unknown> = {}) {
  return {
    ...env,
    RL_USER_WRITES: testEnv.RL_TEST_USER_WRITES,
    RL_AUTH_FAILURES: testEnv.RL_TEST_AUTH_FAILURES,
    RL_UPSTREAM_PRODUCTION: testEnv.RL_TEST_UPSTREAM_PRODUCTION,
    RL_UPSTREAM_DEVELOPMENT: testEnv.RL_TEST_UPSTREAM_DEVELOPMENT,
    RL_UPSTREAM_READS_PRODUCTION: testEnv.RL_TEST_UPSTREAM_READS_PRODUCTION,
    RL_UPSTREAM_READS_DEVELOPMENT: testEnv.RL_TEST_UPSTREAM_READS_DEVELOPMENT,
    RL_UPSTREAM_CALLER_PRODUCTION: testEnv.RL_TEST_UPSTREAM_CALLER_PRODUCTION,
    RL_UPSTREAM_CALLER_DEVELOPMENT: testEnv.RL_TEST_UPSTREAM_CALLER_DEVELOPMENT,
    ...overrides,
  };
}

const send = (path: string, options: CallOptions, bindings: object = limitedEnv()) => callWith(path, options, bindings);

/** Sends until the first 429 (at most 2 × limit + 1 tries); returns how many went through first. */
async function untilLimited(limit: number, attempt: () => Promise<Response>) {
  for (let i = 0; i <= 2 * limit; i++) {
    const response = await attempt();
    if (response.status === 429) return { passed: i, refused: response };
    expect(response.status).toBeLessThan(429);
  }
  throw new Error(`no 429 after ${2 * limit + 1} attempts`);
}

async function expect429(response: Response, retryAfter: number) {
  expect(response.status).toBe(429);
  expect(response.headers.get("Retry-After")).toBe(String(retryAfter));
  expect((await errorBody(response)).errors[0]?.code).toBe("rate_limit_exceeded");
}

useFreshWorld();

describe("wrangler.toml declares every limiter with the numbers the code assumes", () => {
  it("each [[ratelimits]] block matches RATE_LIMITS", () => {
    const blocks = wranglerToml.split("[[ratelimits]]").slice(1);
    const declared = Object.fromEntries(
      blocks.map((block) => {
        const name = /name\s*=\s*"(\w+)"/.exec(block)?.[1];
        const limit = Number(/limit\s*=\s*(\d+)/.exec(block)?.[1]);
        const period = Number(/period\s*=\s*(\d+)/.exec(block)?.[1]);
        return [name, { limit, period }];
      }),
    );
    expect(declared).toEqual(RATE_LIMITS);
    // Under Clerk's Backend-API limits (1000 / 10 s production, 100 / 10 s development).
    expect(RATE_LIMITS.RL_UPSTREAM_PRODUCTION.limit / RATE_LIMITS.RL_UPSTREAM_PRODUCTION.period).toBeLessThan(100);
    expect(RATE_LIMITS.RL_UPSTREAM_DEVELOPMENT.limit / RATE_LIMITS.RL_UPSTREAM_DEVELOPMENT.period).toBeLessThan(10);
    // Reads leave a reserve for writes; one caller can fill neither the reads' pool nor the reserve;
    // a user's allowed writes fit in one caller window.
    for (const type of ["PRODUCTION", "DEVELOPMENT"] as const) {
      const total = RATE_LIMITS[`RL_UPSTREAM_${type}`].limit;
      const reads = RATE_LIMITS[`RL_UPSTREAM_READS_${type}`].limit;
      const caller = RATE_LIMITS[`RL_UPSTREAM_CALLER_${type}`].limit;
      expect(reads).toBeLessThan(total);
      expect(caller).toBeLessThan(reads);
      expect(caller).toBeLessThan(total - reads);
      expect(caller).toBeGreaterThanOrEqual(RATE_LIMITS.RL_USER_WRITES.limit);
    }
  });
});

describe("per user: revoke, refresh and token minting", () => {
  it("alice's 21st mint in a window is a 429 that never reaches Clerk; bob and services are unaffected", async () => {
    const alice = await signIn("alice");
    const { limit, period } = RATE_LIMITS.RL_USER_WRITES;
    const mint = (options: CallOptions, sid = alice.session_id) =>
      send(`/v1/sessions/${sid}/tokens`, { method: "POST", ...options });
    const { passed, refused } = await untilLimited(limit, () => mint({ token: alice.token }));
    expect(passed).toBeGreaterThanOrEqual(limit);
    await expect429(refused, period);
    await clearCalls();
    await expect429(await mint({ token: alice.token }), period);
    // Revoke counts against the same budget.
    await expect429(
      await send(`/v1/sessions/${alice.session_id}/revoke`, { method: "POST", token: alice.token }),
      period,
    );
    expect(await upstreamCalls()).toBe(0);
    const bob = await signIn("bob");
    expect((await mint({ token: bob.token }, bob.session_id)).status).toBe(200);
    expect((await mint({ serviceKey: SERVICE_KEY })).status).toBe(200);
  });
});

describe("per client IP: failed authentication", () => {
  it("the 21st failure from one IP is a 429; other IPs still get 401; valid credentials still work", async () => {
    const { limit, period } = RATE_LIMITS.RL_AUTH_FAILURES;
    const from = (ip: string, token: string) =>
      send("/v1/me/sessions/active", { token, headers: { "CF-Connecting-IP": ip } });
    await clearCalls();
    const { passed, refused } = await untilLimited(limit, () => from("203.0.113.7", "not.a.token"));
    expect(passed).toBeGreaterThanOrEqual(limit);
    await expect429(refused, period);
    expect((await from("198.51.100.8", "not.a.token")).status).toBe(401);
    expect(await upstreamCalls({ path: /^\/v1\/sessions/ })).toBe(0);
    // Only failures are counted: a genuine token from the same address is served.
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    expect((await from("203.0.113.7", token)).status).toBe(200);
  });
});

describe("the upstream guard keeps the gateway under Clerk's Backend-API limit, shared out per caller", () => {
  it("one caller's reads stop at its share (20 per 10 s on development): the refused call never reaches Clerk, its cached reads go STALE", async () => {
    const { limit, period } = RATE_LIMITS.RL_UPSTREAM_CALLER_DEVELOPMENT;
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    expect((await send("/v1/me/sessions/active", { token })).headers.get("X-Cache")).toBe("MISS");
    const cached = await kvJson<{ fetched_at: number }>(kvKeys.activeSessions(SEED.users.alice.id));
    expect(cached).not.toBeNull();
    // Windows roll over every 10 s: retry the whole exhaust-then-read sequence if one did mid-way.
    for (let round = 0; round < 3; round++) {
      await clearCalls();
      // The full device list is never cached: each read is a call to Clerk.
      const { passed, refused } = await untilLimited(limit, () => send("/v1/me/sessions", { token }));
      expect(passed).toBeGreaterThanOrEqual(1);
      await expect429(refused, period);
      // Exactly the calls that were let through reached Clerk (GET reads are not retried on a 429 with Retry-After 10).
      expect(await upstreamCalls()).toBe(passed);
      // Age the cached list past freshness: the refill is refused by the guard and the list is served stale.
      await env.SESSION_CACHE.put(
        kvKeys.activeSessions(SEED.users.alice.id),
        JSON.stringify({ ...cached, fetched_at: Date.now() - 120_000 }),
        { expirationTtl: 3600 },
      );
      // This isolate keeps the list it wrote: forget it, so the aged KV entry is what is read.
      registeredMap("sessionLists")?.clear();
      const stale = await send("/v1/me/sessions/active", { token });
      if (stale.headers.get("X-Cache") === "MISS") continue;
      expect(stale.status).toBe(200);
      expect(stale.headers.get("X-Cache")).toBe("STALE");
      expect(await upstreamCalls()).toBe(passed);
      // Another caller is untouched by alice's spending.
      expect((await send(`/v1/sessions/${SEED.sessions.bobDesktop.id}`, { serviceKey: SERVICE_KEY })).status).toBe(200);
      return;
    }
    throw new Error("the guard's window rolled over in every round");
  }, 120_000);

  it("with the reads' pool spent, reads are refused but writes still reach Clerk (the reserve)", async () => {
    const refuseAll = { limit: async () => ({ success: false }) };
    const bindings = limitedEnv({ RL_UPSTREAM_READS_DEVELOPMENT: refuseAll });
    const alice = await signIn("alice");
    await clearCalls();
    await expect429(
      await send(`/v1/sessions/${SEED.sessions.bobDesktop.id}`, { serviceKey: SERVICE_KEY }, bindings),
      RATE_LIMITS.RL_UPSTREAM_READS_DEVELOPMENT.period,
    );
    expect(await upstreamCalls()).toBe(0);
    await expectSignOutReachesClerk((path, options) => send(path, options, bindings), alice);
  });

  it("each caller has its own share: a user, a service key, and an address for a refresh by expired_token", async () => {
    const seen: string[] = [];
    const recording = {
      limit: async ({ key }: { key: string }) => {
        seen.push(key.slice(key.indexOf("|") + 1));
        return { success: true };
      },
    };
    const bindings = limitedEnv({ RL_UPSTREAM_CALLER_DEVELOPMENT: recording });
    const alice = await signIn("alice");
    expect((await send("/v1/me/sessions", { token: alice.token }, bindings)).status).toBe(200);
    expect(
      (await send(`/v1/sessions/${alice.session_id}`, { serviceKey: TEST_SERVICE_KEYS[1] }, bindings)).status,
    ).toBe(200);
    const refresh = await send(
      `/v1/sessions/${alice.session_id}/refresh`,
      {
        method: "POST",
        headers: { "CF-Connecting-IP": "203.0.113.9" },
        json: {
          expired_token: alice.token,
          refresh_token: alice.refresh_token,
          request_origin: "http://localhost:8787",
        },
      },
      bindings,
    );
    expect(refresh.status).toBe(200);
    expect(seen).toEqual([`user:${alice.user_id}|read`, "service:1|read", "ip:203.0.113.9|write"]);
  });

  it("a production instance (pk_live_) is guarded by the production bindings: caller share, reads' pool, then the instance", async () => {
    const seen: string[] = [];
    const recording = (name: string, success: boolean) => ({
      limit: async ({ key }: { key: string }) => {
        seen.push(`${name} ${key}`);
        return { success };
      },
    });
    const untouched = {
      limit: async () => {
        throw new Error("a development binding must not be used for a production instance");
      },
    };
    const bindings = limitedEnv({
      CLERK_PUBLISHABLE_KEY: `pk_live_${btoa("clerk.example.com$")}`,
      RL_UPSTREAM_CALLER_PRODUCTION: recording("caller", true),
      RL_UPSTREAM_READS_PRODUCTION: recording("reads", true),
      RL_UPSTREAM_PRODUCTION: recording("instance", false),
      RL_UPSTREAM_DEVELOPMENT: untouched,
      RL_UPSTREAM_READS_DEVELOPMENT: untouched,
      RL_UPSTREAM_CALLER_DEVELOPMENT: untouched,
    });
    await clearCalls();
    const response = await send(`/v1/sessions/${SEED.sessions.bobDesktop.id}`, { serviceKey: SERVICE_KEY }, bindings);
    await expect429(response, RATE_LIMITS.RL_UPSTREAM_PRODUCTION.period);
    const instance = "clerk-backend-api:https://clerk.example.com";
    expect(seen).toEqual([`caller ${instance}|service:0|read`, `reads ${instance}|reads`, `instance ${instance}`]);
    expect(await upstreamCalls()).toBe(0);
    // A write skips the reads' pool.
    seen.length = 0;
    const write = await send(
      `/v1/sessions/${SEED.sessions.bobDesktop.id}/revoke`,
      { method: "POST", serviceKey: SERVICE_KEY },
      bindings,
    );
    await expect429(write, RATE_LIMITS.RL_UPSTREAM_PRODUCTION.period);
    expect(seen).toEqual([`caller ${instance}|service:0|write`, `instance ${instance}`]);
    expect(await upstreamCalls()).toBe(0);
  });
});
