import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_TOKEN_LIFETIME_SECONDS } from "../../src/auth/session-token";
import { RATE_LIMITS } from "../../src/config/rate-limits";
import { REVOCATION_TTL_SECONDS } from "../../src/storage/kv-schema";
import {
  clearCalls,
  clearFaults,
  emulatorCalls,
  expiredToken,
  freshToken,
  SEED,
  setFault,
  setSessionStatus,
  signIn,
  tokenWith,
  upstreamCalls,
} from "../support/emulator";
import { captureConsole, coldIsolate, useFreshWorld } from "../support/fresh-world";
import { type CallOptions, callWith, errorBody, SERVICE_KEY, serviceMintedToken } from "../support/gateway";
import { expectSignOutReachesClerk } from "./routes";

/**
 * The independent red team's findings, replayed as attacks: each test does what the attacker
 * did and asserts both what the victim (or the gateway) sees and which calls reached Clerk.
 * docs/security.md lists each class, the rule that answers it and the test here.
 *
 * Rate limits run at their production numbers on the RL_TEST_* bindings (vitest.config.ts),
 * as in rate-limits.test.ts; every other test uses the suite's unreachable ones.
 */

type TestEnv = typeof env & Record<string, RateLimit | undefined>;
const testEnv = env as TestEnv;

/**
 * The gateway with every limiter of a development instance at its real numbers, on this
 * suite's own namespaces (vitest.config.ts), so rate-limits.test.ts running alongside cannot
 * spend the same windows. (Where a namespace is missing, the shared RL_TEST_* one is used.)
 */
function limitedEnv() {
  const own = (name: string) => testEnv[`RL_RED_TEAM_${name}`] ?? testEnv[`RL_TEST_${name}`];
  return {
    ...env,
    RL_USER_WRITES: own("USER_WRITES"),
    RL_AUTH_FAILURES: own("AUTH_FAILURES"),
    RL_UPSTREAM_DEVELOPMENT: own("UPSTREAM_DEVELOPMENT"),
    RL_UPSTREAM_READS_DEVELOPMENT: own("UPSTREAM_READS_DEVELOPMENT"),
    RL_UPSTREAM_CALLER_DEVELOPMENT: own("UPSTREAM_CALLER_DEVELOPMENT"),
  };
}

const send = (path: string, options: CallOptions = {}, bindings: object = env) => callWith(path, options, bindings);

const nowSeconds = () => Math.floor(Date.now() / 1000);

useFreshWorld();
afterEach(clearFaults);

/** The gateway's JSON log lines of the current test, with the console level each was written at. */
const logged: { level: string; line: Record<string, unknown> }[] = [];
const capture = captureConsole({
  onLine: (line, level) => {
    try {
      logged.push({ level, line: JSON.parse(line) as Record<string, unknown> });
    } catch {
      // Not one of the gateway's structured lines.
    }
  },
});
beforeEach(() => {
  logged.length = 0;
});
const lines = (level?: "error") =>
  level ? logged.filter((l) => l.level === level).map((l) => l.line) : capture.json();

describe("1. one caller's burst cannot deny service to others", () => {
  it("alice's 150 uncached reads in a burst: bob's first read, bob's sign-out and a service read still succeed", async () => {
    const bindings = limitedEnv();
    const alice = await signIn("alice");
    const bob = await signIn("bob");
    await clearCalls();
    // The full device list is never cached: every read is a call to Clerk.
    const burst: number[] = [];
    for (let i = 0; i < 150; i++) burst.push((await send("/v1/me/sessions", { token: alice.token }, bindings)).status);
    expect(burst.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(burst).toContain(429);
    const aliceCalls = await upstreamCalls({ method: "GET", path: "/v1/sessions" });
    await clearCalls();
    expect((await send("/v1/me/sessions", { token: bob.token }, bindings)).status).toBe(200);
    expect(
      (await send(`/v1/sessions/${SEED.sessions.aliceLaptop.id}`, { serviceKey: SERVICE_KEY }, bindings)).status,
    ).toBe(200);
    await expectSignOutReachesClerk((path, options) => send(path, options, bindings), bob);
    // Alice spent at most her share (two windows' worth if the fixed window rolled over mid-burst).
    expect(aliceCalls).toBe(burst.filter((s) => s === 200).length);
    expect(aliceCalls).toBeLessThanOrEqual(2 * RATE_LIMITS.RL_UPSTREAM_CALLER_DEVELOPMENT.limit);
  }, 120_000);
});

describe("2. user-minted tokens cannot outlive their session", () => {
  it("a user asking for a 10-year token is refused before Clerk; a 60 s one is minted", async () => {
    const alice = await signIn("alice");
    await clearCalls();
    const mint = (seconds: number) =>
      send(`/v1/sessions/${alice.session_id}/tokens`, {
        method: "POST",
        token: alice.token,
        json: { expires_in_seconds: seconds },
      });
    const refused = await mint(315_360_000);
    expect(refused.status).toBe(400);
    expect((await errorBody(refused)).errors[0]?.meta).toEqual({ param_name: "expires_in_seconds" });
    expect(await upstreamCalls()).toBe(0);
    const minted = await mint(60);
    expect(minted.status).toBe(200);
    expect(await upstreamCalls({ method: "POST", path: "/v1/sessions/*/tokens" })).toBe(1);
    // A service keeps Clerk's whole range.
    const service = await send(`/v1/sessions/${alice.session_id}/tokens`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
      json: { expires_in_seconds: 86_400 },
    });
    expect(service.status).toBe(200);
  });

  it("a day-long token of a session that expired without any webhook is refused, and Clerk is asked once", async () => {
    const alice = await signIn("alice");
    const jwt = await serviceMintedToken(alice.session_id, 86_400, send);
    const claims = decodeJwt(jwt);
    expect((claims.exp as number) - (claims.iat as number)).toBe(86_400);

    await clearCalls();
    // While the session is active, the token works; its status is confirmed once, then remembered briefly.
    expect((await send("/v1/me/sessions/active", { token: jwt })).status).toBe(200);
    expect((await send("/v1/me/sessions/active", { token: jwt })).status).toBe(200);
    expect(await upstreamCalls({ method: "GET", path: `/v1/sessions/${alice.session_id}` })).toBe(1);

    // The session ends inside Clerk; no webhook reaches the gateway.
    await setSessionStatus(alice.session_id, "expired");
    coldIsolate();
    await clearCalls();
    const devices = await send("/v1/me/sessions", { token: jwt });
    expect(devices.status).toBe(401);
    expect((await errorBody(devices)).errors[0]?.meta).toEqual({ reason: "session_inactive" });
    const revoke = await send(`/v1/me/sessions/${SEED.sessions.aliceLaptop.id}/revoke`, { method: "POST", token: jwt });
    expect(revoke.status).toBe(401);
    // One status read; the ended session is then remembered, and nothing else reached Clerk.
    expect((await emulatorCalls()).map((c) => `${c.method} ${c.path}`)).toEqual([
      `GET /v1/sessions/${alice.session_id}`,
    ]);
  });

  it("a long-lived token is never accepted unconfirmed: Clerk failing fails the request; an abandoned session is refused", async () => {
    const now = nowSeconds();
    const longLived = (sid: string) => tokenWith(sid, { iat: now - 10, nbf: now - 20, exp: now + 3600 });
    // A session of its own: an ended session stays remembered in this isolate for the rest of the file.
    const alice = await signIn("alice");
    const token = await longLived(alice.session_id);
    await setFault({ method: "GET", path: "/v1/sessions/*", mode: "503" });
    const unavailable = await send("/v1/me/sessions/active", { token });
    expect(unavailable.status).toBe(503);
    expect((await errorBody(unavailable)).errors[0]?.code).toBe("upstream_unavailable");
    await clearFaults();
    await clearCalls();
    // Abandoned inside Clerk, no webhook: refused, and recorded as ended, so even a fresh 60 s token of it is refused.
    const shortLived = await freshToken(alice.session_id);
    await setSessionStatus(alice.session_id, "abandoned");
    expect((await send("/v1/me/sessions/active", { token })).status).toBe(401);
    expect((await send("/v1/me/sessions/active", { token: shortLived })).status).toBe(401);
    expect(await upstreamCalls({ path: /^\/v1\/sessions/ })).toBe(1);
  });

  it("a token whose lifetime exceeds how long revocations are remembered is refused without a call", async () => {
    const now = nowSeconds();
    const token = await tokenWith(SEED.sessions.aliceDesktop.id, {
      iat: now - 10,
      nbf: now - 20,
      exp: now + 8 * 86_400,
    });
    await clearCalls();
    const refused = await send("/v1/me/sessions/active", { token });
    expect(refused.status).toBe(401);
    expect((await errorBody(refused)).errors[0]?.meta).toEqual({ reason: "token_lifetime_too_long" });
    expect(await upstreamCalls()).toBe(0);
    // The rule behind it: a revocation marker outlives every token of its session the gateway accepts.
    expect(MAX_TOKEN_LIFETIME_SECONDS).toBeLessThan(REVOCATION_TTL_SECONDS);
  });
});

describe("3. reverification ages fva by the token's age", () => {
  it("a two-day-old token minted right after sign-in (fva[0] = 0) cannot remove another device", async () => {
    const now = nowSeconds();
    const token = await tokenWith(SEED.sessions.aliceDesktop.id, {
      iat: now - 2 * 86_400,
      nbf: now - 2 * 86_400 - 10,
      exp: now + 600,
      fva: [0, -1],
    });
    await clearCalls();
    const response = await send(`/v1/me/sessions/${SEED.sessions.aliceLaptop.id}/revoke`, { method: "POST", token });
    expect(response.status).toBe(403);
    expect((await errorBody(response)).errors[0]?.code).toBe("session_reverification_required");
    expect(await upstreamCalls({ method: "POST" })).toBe(0);
    expect((await emulatorCalls()).find((c) => c.path.endsWith("/revoke"))).toBeUndefined();
  });
});

describe("4. an old token of the victim cannot burn the victim's write allowance", () => {
  it("an attacker's failed refreshes are charged to the attacker's address; alice still signs out, mints and refreshes", async () => {
    const bindings = limitedEnv();
    const alice = await signIn("alice");
    const stolen = await expiredToken(alice.session_id);
    const attack = () =>
      send(
        `/v1/sessions/${alice.session_id}/refresh`,
        {
          method: "POST",
          headers: { "CF-Connecting-IP": "203.0.113.66" },
          json: { expired_token: stolen, refresh_token: "guessed", request_origin: "http://localhost:8787" },
        },
        bindings,
      );
    await clearCalls();
    const statuses: number[] = [];
    for (let i = 0; i <= 2 * RATE_LIMITS.RL_USER_WRITES.limit + 2; i++) statuses.push((await attack()).status);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    // The attacker's own address runs out of tries; those never reach Clerk.
    expect(statuses.at(-1)).toBe(429);
    const refreshCalls = await upstreamCalls({ method: "POST", path: "/v1/sessions/*/refresh" });
    expect(refreshCalls).toBe(statuses.filter((s) => s === 401).length);
    expect(refreshCalls).toBeLessThanOrEqual(2 * RATE_LIMITS.RL_AUTH_FAILURES.limit);

    await clearCalls();
    const own = { headers: { "CF-Connecting-IP": "198.51.100.10" } };
    const minted = await send(
      `/v1/sessions/${alice.session_id}/tokens`,
      { method: "POST", token: alice.token, ...own },
      bindings,
    );
    expect(minted.status).toBe(200);
    const refreshed = await send(
      `/v1/sessions/${alice.session_id}/refresh`,
      {
        method: "POST",
        ...own,
        json: {
          expired_token: alice.token,
          refresh_token: alice.refresh_token,
          request_origin: "http://localhost:8787",
        },
      },
      bindings,
    );
    expect(refreshed.status).toBe(200);
    const signOut = await send(
      `/v1/me/sessions/${alice.session_id}/revoke`,
      { method: "POST", token: alice.token, ...own },
      bindings,
    );
    expect(signOut.status).toBe(200);
    expect((await emulatorCalls({ method: "POST" })).map((c) => c.path)).toEqual([
      `/v1/sessions/${alice.session_id}/tokens`,
      `/v1/sessions/${alice.session_id}/refresh`,
      `/v1/sessions/${alice.session_id}/revoke`,
    ]);
  }, 60_000);
});

describe("6. an aborted or truncated body is a 4xx, never a 500 or an error log line", () => {
  /** Content-Length: 100, a few bytes, then the connection drops (or the body just ends). */
  function brokenBody(kind: "aborted" | "truncated"): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start(controller) {
        if (kind === "aborted") {
          controller.enqueue(new TextEncoder().encode('{"exp'));
          controller.error(new Error("Network connection lost."));
        } else {
          // Parses as a complete body, but is 98 bytes short of what was announced.
          controller.enqueue(new TextEncoder().encode("{}"));
          controller.close();
        }
      },
    });
  }

  const routes = [
    { path: () => `/v1/sessions/${SEED.sessions.aliceDesktop.id}/tokens`, auth: { serviceKey: SERVICE_KEY } },
    { path: () => `/v1/sessions/${SEED.sessions.aliceDesktop.id}/refresh`, auth: {} },
    { path: () => `/v1/sessions/${SEED.sessions.aliceDesktop.id}/revoke`, auth: { serviceKey: SERVICE_KEY } },
    { path: () => "/v1/sessions", auth: { serviceKey: SERVICE_KEY } },
    { path: () => "/webhooks/clerk", auth: {} },
  ];

  for (const kind of ["aborted", "truncated"] as const) {
    it(`${kind} bodies on every route that reads one`, async () => {
      await clearCalls();
      for (const route of routes) {
        const response = await send(route.path(), {
          method: "POST",
          ...route.auth,
          headers: { "Content-Type": "application/json", "Content-Length": "100" },
          body: brokenBody(kind),
          duplex: "half",
        } as unknown as CallOptions);
        expect({ route: route.path(), status: response.status }).toEqual({
          route: route.path(),
          status: expect.toSatisfy((s: number) => s >= 400 && s < 500),
        });
        expect((await errorBody(response)).errors[0]?.code).toBe("request_body_incomplete");
      }
      expect(lines("error")).toEqual([]);
      expect(lines().filter((l) => l.level === "error")).toEqual([]);
      expect(await upstreamCalls()).toBe(0);
    });
  }
});

describe("7. the request id in logs and audit lines is the gateway's own", () => {
  it("a spoofed X-Request-Id is logged beside the gateway's id, never as it", async () => {
    const spoof = "audit-4242";
    await clearCalls();
    const response = await send(`/v1/sessions/${SEED.sessions.aliceDesktop.id}/tokens`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
      headers: { "X-Request-Id": spoof },
    });
    expect(response.status).toBe(200);
    const id = response.headers.get("X-Request-Id");
    expect(id).not.toBe(spoof);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const request = lines().find((l) => l.msg === "request");
    const audit = lines().find((l) => l.msg === "audit");
    expect(request).toMatchObject({ request_id: id, client_request_id: spoof });
    expect(audit).toMatchObject({ request_id: id, client_request_id: spoof });
    expect(await upstreamCalls({ method: "POST", path: "/v1/sessions/*/tokens" })).toBe(1);
  });

  it("an oversized or unprintable client id is truncated or dropped, never logged raw", async () => {
    await send("/healthz", { headers: { "X-Request-Id": "x".repeat(500) } });
    await send("/healthz", { headers: { "X-Request-Id": 'a"b\\c{}' } });
    const [long, odd] = lines().filter((l) => l.msg === "request");
    expect(long?.client_request_id).toBe("x".repeat(64));
    expect(odd?.client_request_id).toBeUndefined();
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("notes: ambiguous cookies and refresh origins", () => {
  it("two __session cookies (cookie tossing from a sibling subdomain) are refused, not resolved first-wins", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    const mallory = await freshToken(SEED.sessions.bobDesktop.id);
    await clearCalls();
    const response = await send("/v1/me/sessions/active", {
      headers: { Cookie: `__session=${mallory}; __session=${token}` },
    });
    expect(response.status).toBe(401);
    expect((await errorBody(response)).errors[0]?.meta).toEqual({ reason: "session_cookie_ambiguous" });
    expect(await upstreamCalls()).toBe(0);
    expect((await send("/v1/me/sessions/active", { headers: { Cookie: `__session=${token}` } })).status).toBe(200);
  });

  it("a user-authenticated refresh cannot ask Clerk for a token for an unauthorized origin", async () => {
    const alice = await signIn("alice");
    await clearCalls();
    const response = await send(`/v1/sessions/${alice.session_id}/refresh`, {
      method: "POST",
      json: { expired_token: alice.token, refresh_token: alice.refresh_token, request_origin: "https://evil.example" },
    });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).errors[0]?.meta).toEqual({ param_name: "request_origin" });
    expect(await upstreamCalls()).toBe(0);
  });
});
