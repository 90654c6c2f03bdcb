import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { kvKeys } from "../../src/storage/kv-schema";
import { settled } from "../../src/storage/kv-writer";
import {
  clearFaults,
  clerkSession,
  clerkSessions,
  emulatorCalls,
  type FaultSpec,
  freshToken,
  SEED,
  setFault,
  signIn,
} from "../support/emulator";
import { freshWorld, useFreshWorld } from "../support/fresh-world";
import { call, errorBody, SERVICE_KEY } from "../support/gateway";
import { FAST_TIMEOUT_MS, gw, seedCachedList } from "./support";

/**
 * Every fault the emulator can inject, on every route that reaches Clerk. The gateway runs
 * with UPSTREAM_TIMEOUT_MS=200 so a hang is a few hundred milliseconds.
 */
const alice = SEED.users.alice;
const bob = SEED.users.bob;
const aliceDesktop = SEED.sessions.aliceDesktop;
const bobDesktop = SEED.sessions.bobDesktop;

type Mode = FaultSpec["mode"];
const MODES: Mode[] = ["500", "502", "503", "429", "hang", "slow", "malformed_json", "wrong_content_type", "drop"];

/** What the caller must see when Clerk fails this way (reads and writes alike; only retries differ). */
const EXPECTED: Record<Mode, number> = {
  "500": 502,
  "502": 502,
  "503": 503,
  "429": 429,
  hang: 504,
  slow: 200,
  malformed_json: 502,
  wrong_content_type: 502,
  drop: 502,
};

function fault(mode: Mode, method: string, path: string, extra: Partial<FaultSpec> = {}): FaultSpec {
  return {
    method,
    path,
    mode,
    // A hang lasts well past the gateway's timeout, but not so long that the emulator holds it for the whole run.
    ...(mode === "hang" ? { delay_ms: 1_500 } : {}),
    ...(mode === "slow" ? { delay_ms: 50 } : {}),
    ...(mode === "429" ? { retry_after_seconds: 3 } : {}),
    ...extra,
  };
}

async function expectFailure(response: Response, mode: Mode) {
  expect(response.status).toBe(EXPECTED[mode]);
  const body = await errorBody(response);
  const error = body.errors[0];
  expect(error?.code).toBe(mode === "429" ? "rate_limit_exceeded" : "upstream_unavailable");
  if (mode === "429") expect(response.headers.get("Retry-After")).toBe("3");
  expect(response.headers.get("X-Request-Id")).toBeTruthy();
  return body;
}

const activeSessionsOf = async (userId: string) => (await clerkSessions(userId)).filter((s) => s.status === "active");

beforeAll(async () => {
  // Loads the JWKS once through the Worker entry point (which has an ExecutionContext): the
  // app.request() calls below have none, and the JWKS store's first load needs waitUntil.
  await freshWorld();
  await call("/v1/me/sessions", { token: await freshToken(aliceDesktop.id) });
});

// Each test also starts with Clerk unblocked: a 429 in one test blocks calls for its Retry-After.
useFreshWorld();

afterEach(async () => {
  await clearFaults();
});

/** Read routes that always go to Clerk: a failure is an error in Clerk's envelope, never a 500. */
const passThroughReads = [
  {
    name: "GET /v1/me/sessions (user)",
    fault: ["GET", "/v1/sessions"] as const,
    request: async () => gw("/v1/me/sessions", { token: await freshToken(aliceDesktop.id) }),
  },
  {
    name: "GET /v1/sessions?user_id (service)",
    fault: ["GET", "/v1/sessions"] as const,
    request: async () => gw(`/v1/sessions?user_id=${alice.id}`, { serviceKey: SERVICE_KEY }),
  },
  {
    name: "GET /v1/sessions/{id} (service)",
    fault: ["GET", "/v1/sessions/*"] as const,
    request: async () => gw(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY }),
  },
  {
    name: "GET /v1/sessions/{id} (user, not in the cached list)",
    fault: ["GET", "/v1/sessions/*"] as const,
    request: async () =>
      gw(`/v1/sessions/${SEED.sessions.aliceEnded.id}`, { token: await freshToken(aliceDesktop.id) }),
  },
];

describe("Clerk failures on reads map to Clerk's envelope with the documented status, retried only where safe", () => {
  for (const route of passThroughReads) {
    it.each(MODES)(`${route.name}: %s`, async (mode) => {
      // Warm the JWKS and the caller's own list first, so only the faulted call can fail.
      await route.request();
      const [method, path] = route.fault;
      await setFault(fault(mode, method, path));
      const before = (await emulatorCalls({ method, path })).length;
      const response = await route.request();
      const attempts = (await emulatorCalls({ method, path })).length - before;
      if (mode === "slow") {
        expect(response.status).toBe(200);
        expect(attempts).toBe(1);
        return;
      }
      await expectFailure(response, mode);
      // Retries stay bounded: never more than 3 attempts, and a 429 asking for 3 s is not waited out inline.
      expect(attempts).toBeGreaterThanOrEqual(1);
      expect(attempts).toBeLessThanOrEqual(3);
      if (mode === "429") expect(attempts).toBe(1);
    });
  }

  it("a read that fails once with 502 is retried and succeeds", async () => {
    await setFault(fault("502", "GET", "/v1/sessions/*", { times: 1 }));
    const response = await gw(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(aliceDesktop.id);
    expect(await emulatorCalls({ method: "GET", path: "/v1/sessions/*" })).toHaveLength(2);
  });

  it("a hanging read gives up within the read deadline (two timeouts), not three timeouts plus backoff", async () => {
    await setFault(fault("hang", "GET", "/v1/sessions/*"));
    const response = await gw(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(504);
    // Two attempts fit into 2 × 200 ms only if the first one is cut at the timeout; a third never fits.
    const attempts = await emulatorCalls({ method: "GET", path: "/v1/sessions/*" });
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.length).toBeLessThanOrEqual(2);
    const body = await errorBody(response);
    expect(body.errors[0]?.long_message).toContain(`UPSTREAM_TIMEOUT_MS is ${FAST_TIMEOUT_MS}`);
  });

  // A real second: the gateway waits it out in wall time, as Clerk (another server, its own clock) asked,
  // inside a deadline that is a real timer on the network call.
  it("a read rate-limited with Retry-After: 1 waits that second and retries once (default timeout)", async () => {
    await setFault(fault("429", "GET", "/v1/sessions/*", { times: 1, retry_after_seconds: 1 }));
    const response = await call(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(200);
    expect(await emulatorCalls({ method: "GET", path: "/v1/sessions/*" })).toHaveLength(2);
  });

  it("after a 429, no request calls Clerk until Retry-After has passed; cached lists are served STALE meanwhile", async () => {
    const token = await freshToken(aliceDesktop.id);
    await gw("/v1/me/sessions", { token }); // JWKS warm
    await seedCachedList(alice.id, await activeSessionsOf(alice.id), 600);
    await setFault(fault("429", "GET", "/v1/sessions/*", { times: 1, retry_after_seconds: 30 }));
    const first = await gw(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY });
    expect(first.status).toBe(429);
    const before = (await emulatorCalls()).length;
    // The fault is used up, so any call that reached Clerk now would succeed: none must.
    const again = await gw(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Number(again.headers.get("Retry-After"))).toBeLessThanOrEqual(30);
    const write = await gw(`/v1/sessions/${aliceDesktop.id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(write.status).toBe(429);
    const list = await gw("/v1/me/sessions/active", { token });
    expect(list.status).toBe(200);
    expect(list.headers.get("X-Cache")).toBe("STALE");
    expect(await emulatorCalls()).toHaveLength(before);
    expect((await clerkSession(aliceDesktop.id)).status).toBe("active");
    // Once the 30 s have passed on the gateway's clock, Clerk is asked again.
    const reads = (await emulatorCalls({ method: "GET", path: "/v1/sessions/*" })).length;
    advanceClock(30_000);
    expect((await gw(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY })).status).toBe(200);
    expect(await emulatorCalls({ method: "GET", path: "/v1/sessions/*" })).toHaveLength(reads + 1);
  });

  it("a 429 whose Retry-After is not a number or a date is passed on as a sane number, never NaN", async () => {
    // The emulator only sends integers, so this checks the largest one: capped at a day.
    await setFault(fault("429", "GET", "/v1/sessions/*", { retry_after_seconds: 999_999_999 }));
    const response = await gw(`/v1/sessions/${aliceDesktop.id}`, { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("86400");
  });
});

describe("cached lists are served STALE when Clerk fails, and a clear 503 beyond the stale bound", () => {
  const cachedRoutes = [
    {
      name: "GET /v1/me/sessions/active (user)",
      userId: alice.id,
      // Verifying a token once loads the JWKS; /v1/me/sessions does it without touching the cached list.
      warm: async () => gw("/v1/me/sessions", { token: await freshToken(aliceDesktop.id) }),
      request: async () => gw("/v1/me/sessions/active", { token: await freshToken(aliceDesktop.id) }),
    },
    {
      name: "GET /v1/sessions?user_id&status=active (service)",
      userId: bob.id,
      warm: async () => undefined,
      request: async () => gw(`/v1/sessions?user_id=${bob.id}&status=active`, { serviceKey: SERVICE_KEY }),
    },
  ];

  for (const route of cachedRoutes) {
    it.each(MODES)(`${route.name}, cache older than fresh: %s`, async (mode) => {
      await route.warm();
      const listed = await activeSessionsOf(route.userId);
      // 10 minutes old: past freshness (30 s), well within the stale bound (1 h).
      await seedCachedList(route.userId, listed, 600);
      await setFault(fault(mode, "GET", "/v1/sessions"));
      const response = await route.request();
      expect(response.status).toBe(200);
      expect(response.headers.get("X-Cache")).toBe(mode === "slow" ? "MISS" : "STALE");
      const ids = ((await response.json()) as Array<{ id: string }>).map((s) => s.id).sort();
      expect(ids).toEqual(listed.map((s) => s.id).sort());
    });

    it.each(MODES.filter((m) => m !== "slow"))(`${route.name}, no cache at all: %s`, async (mode) => {
      await route.warm();
      await setFault(fault(mode, "GET", "/v1/sessions"));
      await expectFailure(await route.request(), mode);
    });

    it(`${route.name}, cache older than the stale bound: 503 with Retry-After`, async () => {
      await route.warm();
      const listed = await activeSessionsOf(route.userId);
      // SESSION_CACHE_TTL_SECONDS (30) + SESSION_CACHE_STALE_SECONDS (3600) is the bound.
      await seedCachedList(route.userId, listed, 30 + 3_600 + 60);
      await setFault(fault("503", "GET", "/v1/sessions"));
      const response = await route.request();
      expect(response.status).toBe(503);
      expect(response.headers.get("X-Cache")).toBeNull();
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
      const body = await errorBody(response);
      expect(body.errors[0]).toMatchObject({ code: "upstream_unavailable" });
      expect(body.errors[0]?.long_message).toContain("too old");
    });
  }
});

type WriteRoute = {
  name: string;
  fault: readonly [string, string];
  /** Prepares state (warm JWKS, cache) and returns the request to fault. */
  setup: () => Promise<() => Promise<Response>>;
  /** Asserts the write did not happen at Clerk and the gateway's cache is untouched. */
  notDone: () => Promise<void>;
  /** Asserts what a 200 claims really happened at Clerk. */
  done: () => Promise<void>;
};

const revokeRoute = (name: string, user: boolean): WriteRoute => {
  // A new session per test: revocation markers and this isolate's revocation memory outlive an emulator reset.
  let target = "";
  return {
    name,
    fault: ["POST", "/v1/sessions/*/revoke"],
    setup: async () => {
      // A fresh sign-in: revoking from the browser needs a recent first factor.
      const token = (await signIn("alice")).token;
      target = (await signIn("alice")).session_id;
      // A fresh cached list, which a failed revoke must leave as it was. Put straight into KV, so
      // no write of the gateway's own is still queued for that key when the revoke runs.
      await seedCachedList(alice.id, await activeSessionsOf(alice.id), 0);
      expect((await gw("/v1/me/sessions", { token })).status).toBe(200);
      const path = user ? `/v1/me/sessions/${target}/revoke` : `/v1/sessions/${target}/revoke`;
      return () => gw(path, user ? { method: "POST", token } : { method: "POST", serviceKey: SERVICE_KEY });
    },
    notDone: async () => {
      await settled();
      expect((await clerkSession(target)).status).toBe("active");
      const cached = (await env.SESSION_CACHE.get(kvKeys.activeSessions(alice.id), "json")) as {
        sessions: { id: string }[];
      };
      expect(cached.sessions.map((s) => s.id)).toContain(target);
      expect(await env.SESSION_CACHE.get(kvKeys.revoked(target))).toBeNull();
    },
    done: async () => {
      await settled();
      expect((await clerkSession(target)).status).toBe("revoked");
      const cached = (await env.SESSION_CACHE.get(kvKeys.activeSessions(alice.id), "json")) as {
        sessions: { id: string }[];
      };
      expect(cached.sessions.map((s) => s.id)).not.toContain(target);
      expect(await env.SESSION_CACHE.get(kvKeys.revoked(target))).not.toBeNull();
    },
  };
};

const writeRoutes: WriteRoute[] = [
  revokeRoute("POST /v1/me/sessions/{id}/revoke (user)", true),
  revokeRoute("POST /v1/sessions/{id}/revoke (service)", false),
  {
    name: "POST /v1/sessions (service)",
    fault: ["POST", "/v1/sessions"],
    setup: async () => () => gw("/v1/sessions", { method: "POST", serviceKey: SERVICE_KEY, json: { user_id: bob.id } }),
    notDone: async () => expect(await activeSessionsOf(bob.id)).toHaveLength(2),
    done: async () => expect(await activeSessionsOf(bob.id)).toHaveLength(3),
  },
  {
    name: "POST /v1/sessions/{id}/tokens (user)",
    fault: ["POST", "/v1/sessions/*/tokens"],
    setup: async () => {
      const token = await freshToken(aliceDesktop.id);
      return () => gw(`/v1/sessions/${aliceDesktop.id}/tokens`, { method: "POST", token });
    },
    notDone: async () => undefined,
    done: async () => undefined,
  },
  {
    name: "POST /v1/sessions/{id}/tokens/{template} (service)",
    fault: ["POST", "/v1/sessions/*/tokens/*"],
    setup: async () => () =>
      gw(`/v1/sessions/${bobDesktop.id}/tokens/supabase`, { method: "POST", serviceKey: SERVICE_KEY }),
    notDone: async () => undefined,
    done: async () => undefined,
  },
  {
    name: "POST /v1/sessions/{id}/refresh (service)",
    fault: ["POST", "/v1/sessions/*/refresh"],
    setup: async () => {
      const expired = await freshToken(bobDesktop.id);
      return () =>
        gw(`/v1/sessions/${bobDesktop.id}/refresh`, {
          method: "POST",
          serviceKey: SERVICE_KEY,
          json: {
            expired_token: expired,
            refresh_token: "rt_seed_bobDesktop",
            request_origin: "http://localhost:8787",
          },
        });
    },
    notDone: async () => undefined,
    done: async () => undefined,
  },
];

describe("a write is reported done only when Clerk confirmed it; a failed write leaves the cache as it was", () => {
  for (const route of writeRoutes) {
    it.each(MODES)(`${route.name}: %s before Clerk acts`, async (mode) => {
      const request = await route.setup();
      const [method, path] = route.fault;
      await setFault(fault(mode, method, path));
      const response = await request();
      // Writes are never retried: a second attempt could apply them twice.
      expect(await emulatorCalls({ method, path })).toHaveLength(1);
      if (mode === "slow") {
        expect(response.status).toBe(200);
        await route.done();
        return;
      }
      const body = await expectFailure(response, mode);
      if (mode !== "429") expect(body.errors[0]?.meta).toMatchObject({ outcome: "unknown" });
      await route.notDone();
    });

    it.each(MODES.filter((m) => m !== "slow"))(`${route.name}: %s after Clerk committed`, async (mode) => {
      const request = await route.setup();
      const [method, path] = route.fault;
      await setFault(fault(mode, method, path, { after: true }));
      const response = await request();
      if (route.name.includes("revoke") && mode !== "429") {
        // A revoke learns the truth by reading the session back: Clerk says revoked, so it is done, and cached so.
        expect(response.status).toBe(200);
        await route.done();
        return;
      }
      // Clerk did it but the gateway cannot know: it says the outcome is unknown rather than "failed" or "done".
      const body = await expectFailure(response, mode);
      if (mode !== "429") expect(body.errors[0]?.meta).toMatchObject({ outcome: "unknown" });
    });
  }

  it("a revoke whose answer is lost and whose read-back also fails leaves the cache alone and says so", async () => {
    const route = writeRoutes[1] as WriteRoute;
    const request = await route.setup();
    await setFault(fault("502", "POST", "/v1/sessions/*/revoke"));
    await setFault(fault("503", "GET", "/v1/sessions/*"));
    const response = await request();
    expect(response.status).toBe(502);
    expect((await errorBody(response)).errors[0]?.long_message).toContain("unknown");
    await route.notDone();
  });
});
