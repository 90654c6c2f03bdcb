import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app";
import { registeredMap } from "../../src/core/isolate-memory";
import type { Bindings } from "../../src/http/app-env";
import { kvKeys } from "../../src/storage/kv-schema";
import { settled } from "../../src/storage/kv-writer";
import { TEST_SECRET_KEY, TEST_SERVICE_KEYS, TEST_WEBHOOK_SECRET } from "../support/config";
import { clearFaults, emulatorCalls, freshToken, SEED, setFault, signIn } from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";
import { call, errorBody, gatewayRequest, SERVICE_KEY } from "../support/gateway";

type Line = Record<string, unknown>;
useFreshWorld();
const logs = captureConsole();

/** Every line the gateway printed during the test, raw: secrets are searched for in these. */
const rawLines = () => logs.lines;
const jsonLines = (): Line[] => logs.json();
const requestLines = () => jsonLines().filter((l) => l.msg === "request");
const auditLines = () => jsonLines().filter((l) => l.msg === "audit");

afterEach(async () => {
  await clearFaults();
});

describe("every response carries a request id and produces exactly one request log line", () => {
  it("on success, errors, unknown routes, CORS preflight and configuration errors alike", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    const responses = [
      await call("/healthz"),
      await call("/v1/me/sessions/active", { token }),
      await call("/v1/me/sessions/active"),
      await call("/v1/sessions/not-an-id", { serviceKey: SERVICE_KEY }),
      await call("/nowhere"),
      await call("/v1/sessions", {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "GET" },
      }),
      await createApp().request(gatewayRequest("/healthz"), undefined, {
        ...(env as unknown as Bindings),
        SESSION_CACHE_TTL_SECONDS: "-1",
      }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 401, 400, 404, 204, 500]);
    const ids = responses.map((r) => r.headers.get("X-Request-Id"));
    for (const id of ids) expect(id).toMatch(/^[\w-]{8,}$/);
    expect(new Set(ids).size).toBe(ids.length);

    const lines = requestLines();
    expect(lines).toHaveLength(responses.length);
    expect(lines.map((l) => l.request_id)).toEqual(ids);
    expect(lines.map((l) => l.status)).toEqual(responses.map((r) => r.status));
  });

  it("logs a caller's own X-Request-Id beside the gateway's, so a trace spans both without the caller choosing the id", async () => {
    const response = await call("/nowhere", { headers: { "X-Request-Id": "caller-trace-0001" } });
    const id = response.headers.get("X-Request-Id");
    expect(id).not.toBe("caller-trace-0001");
    expect(requestLines()).toEqual([
      expect.objectContaining({ request_id: id, client_request_id: "caller-trace-0001", status: 404 }),
    ]);
  });

  it("an unexpected error is a 500 in Clerk's envelope, logged once with its request id", async () => {
    // A missing KV binding makes the cache throw a TypeError: the kind of bug nobody planned for.
    const broken = { ...(env as unknown as Bindings), SESSION_CACHE: undefined } as unknown as Bindings;
    const response = await createApp().request(
      gatewayRequest(`/v1/sessions?user_id=${SEED.users.alice.id}&status=active`, { serviceKey: SERVICE_KEY }),
      undefined,
      broken,
    );
    expect(response.status).toBe(500);
    expect((await errorBody(response)).errors[0]?.code).toBe("internal_error");
    const id = response.headers.get("X-Request-Id");
    expect(requestLines()).toEqual([
      expect.objectContaining({ request_id: id, status: 500, error_code: "internal_error" }),
    ]);
    expect(jsonLines().filter((l) => l.msg === "unhandled_error")).toEqual([
      expect.objectContaining({ request_id: id }),
    ]);
  });
});

describe("the request log line has a fixed shape", () => {
  it("names route, status, principal kind, cache status and upstream calls and time", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    await call("/v1/me/sessions/active", { token });
    await call(`/v1/sessions?user_id=${SEED.users.alice.id}&status=active`, { serviceKey: SERVICE_KEY });
    await setFault({ method: "GET", path: "/v1/sessions/*", mode: "503", times: 3 });
    await call(`/v1/sessions/${SEED.sessions.alicePhone.id}`, { serviceKey: SERVICE_KEY });
    const [miss, hit, failed] = requestLines();
    const common = {
      level: "info",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      request_id: expect.any(String),
      method: "GET",
      upstream_ms: expect.any(Number),
      duration_ms: expect.any(Number),
    };
    expect(miss).toMatchObject({
      ...common,
      route: "/v1/me/sessions/active",
      status: 200,
      principal: "user",
      user_id: SEED.users.alice.id,
      session_id: SEED.sessions.aliceDesktop.id,
      cache: "MISS",
    });
    expect(miss?.upstream_calls).toBeGreaterThanOrEqual(1);
    expect(hit).toMatchObject({ ...common, route: "/v1/sessions", principal: "service", service_key: 0, cache: "HIT" });
    expect(hit?.upstream_calls).toBe(0);
    expect(failed).toMatchObject({
      ...common,
      route: "/v1/sessions/:session_id",
      status: 503,
      principal: "service",
      error_code: "upstream_unavailable",
    });
    expect(failed?.upstream_calls).toBe(await (async () => (await emulatorCalls({ path: "/v1/sessions/*" })).length)());
  });
});

describe("audit lines record revokes and token mints: who, which session, outcome, Clerk trace id", () => {
  it("a revoke and two mints that succeed, and a revoke that fails", async () => {
    const me = await signIn("alice");
    const other = await signIn("alice");
    expect((await call(`/v1/me/sessions/${other.session_id}/revoke`, { method: "POST", token: me.token })).status).toBe(
      200,
    );
    expect((await call(`/v1/sessions/${me.session_id}/tokens`, { method: "POST", token: me.token })).status).toBe(200);
    expect(
      (await call(`/v1/sessions/${me.session_id}/tokens/supabase`, { method: "POST", serviceKey: SERVICE_KEY })).status,
    ).toBe(200);
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "503" });
    await setFault({ method: "GET", path: "/v1/sessions/*", mode: "503" });
    const failed = await call(`/v1/sessions/${me.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(failed.status).toBe(503);

    const audits = auditLines();
    expect(audits).toHaveLength(4);
    const [revoke, token, template, failedRevoke] = audits;
    const trace = expect.stringMatching(/.+/);
    expect(revoke).toMatchObject({
      level: "info",
      action: "session.revoke",
      session_id: other.session_id,
      actor: { kind: "user", user_id: SEED.users.alice.id, session_id: me.session_id },
      outcome: "ok",
      status: 200,
      clerk_trace_id: trace,
    });
    expect(token).toMatchObject({
      action: "session.token",
      session_id: me.session_id,
      outcome: "ok",
      clerk_trace_id: trace,
    });
    expect(template).toMatchObject({
      action: "session.template_token",
      session_id: me.session_id,
      template: "supabase",
      actor: { kind: "service", service_key: 0 },
      outcome: "ok",
    });
    expect(failedRevoke).toMatchObject({
      action: "session.revoke",
      session_id: me.session_id,
      outcome: "error",
      status: 503,
      error_code: "upstream_unavailable",
      clerk_trace_id: trace,
    });
    // Each audit line belongs to a logged request.
    const requestIds = new Set(requestLines().map((l) => l.request_id));
    for (const line of audits) expect(requestIds.has(line.request_id)).toBe(true);
  });
});

describe("no log line ever carries a token or a key", () => {
  it("across reads, writes, mints, refreshes and failures", async () => {
    const me = await signIn("alice");
    const secrets: string[] = [TEST_SECRET_KEY, ...TEST_SERVICE_KEYS, TEST_WEBHOOK_SECRET, me.token, me.refresh_token];
    await call("/v1/me/sessions/active", { token: me.token });
    await call("/v1/me/sessions", { cookie: me.token, headers: { Origin: "http://localhost:8787" } });
    const minted = await call(`/v1/sessions/${me.session_id}/tokens`, { method: "POST", token: me.token });
    secrets.push(((await minted.json()) as { jwt: string }).jwt);
    const template = await call(`/v1/sessions/${me.session_id}/tokens/hasura`, { method: "POST", token: me.token });
    secrets.push(((await template.json()) as { jwt: string }).jwt);
    const refreshed = await call(`/v1/sessions/${me.session_id}/refresh`, {
      method: "POST",
      json: { expired_token: me.token, refresh_token: me.refresh_token, request_origin: "http://localhost:8787" },
    });
    expect(refreshed.status).toBe(200);
    secrets.push(((await refreshed.json()) as { jwt: string }).jwt);
    await call("/v1/sessions", { headers: { Authorization: `Bearer ${TEST_SERVICE_KEYS[1]}x` } });
    await call("/v1/me/sessions/active", { token: `${me.token.slice(0, -4)}AAAA` });
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "drop" });
    await call(`/v1/sessions/${me.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    // The gateway's own secret key rejected by Clerk.
    await createApp().request(gatewayRequest(`/v1/sessions/${me.session_id}`, { serviceKey: SERVICE_KEY }), undefined, {
      ...(env as unknown as Bindings),
      CLERK_SECRET_KEY: "sk_test_wrongKeyForTheEmulator0000000000000",
    });
    secrets.push("sk_test_wrongKeyForTheEmulator0000000000000");

    const lines = rawLines();
    expect(requestLines().length).toBeGreaterThanOrEqual(9);
    for (const line of lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
      // No JWT of any kind (three base64url segments starting with a JSON header).
      expect(line).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
      expect(line).not.toMatch(/sk_(test|live)_/);
    }
  });
});

describe("Server-Timing separates verification, cache and upstream time", () => {
  it("a miss against a slow Clerk puts the wait under upstream, not cache", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    await call(`/v1/sessions/${SEED.sessions.aliceDesktop.id}`, { token }); // JWKS warm
    await settled();
    // A cold list: not in KV, and not in this isolate's memory of the list it just wrote.
    await env.SESSION_CACHE.delete(kvKeys.activeSessions(SEED.users.alice.id));
    registeredMap("sessionLists")?.clear();
    await setFault({ method: "GET", path: "/v1/sessions", mode: "slow", delay_ms: 150 });
    const response = await call("/v1/me/sessions/active", { token });
    expect(response.headers.get("X-Cache")).toBe("MISS");
    const timing = Object.fromEntries(
      (response.headers.get("Server-Timing") ?? "").split(", ").map((part) => {
        const [name, dur] = part.split(";dur=");
        return [name, Number(dur)];
      }),
    );
    expect(Object.keys(timing)).toEqual(["verify", "cache", "upstream", "total"]);
    expect(timing.upstream).toBeGreaterThanOrEqual(150);
    // The parts are disjoint: together they never exceed the whole.
    expect((timing.verify ?? 0) + (timing.cache ?? 0) + (timing.upstream ?? 0)).toBeLessThanOrEqual(timing.total ?? 0);
  });
});
