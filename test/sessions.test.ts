import { describe, expect, it } from "vitest";
import { kvKeys } from "../src/storage/kv-schema";
import { TEST_SERVICE_KEYS } from "./support/config";
import { clerkSession, emulatorCalls, freshToken, SEED, signIn } from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { call, errorBody, kvJson, SERVICE_KEY } from "./support/gateway";
import { validateBapi } from "./support/openapi";

const { alice, bob } = SEED.users;
const { aliceDesktop, alicePhone, bobDesktop } = SEED.sessions;

useFreshWorld();

const upstream = async () => (await emulatorCalls()).length;

describe("services get Clerk's Backend API semantics on /v1/sessions", () => {
  it("lists sessions by user, paginated and not, in Clerk's shapes", async () => {
    const plain = await call(`/v1/sessions?user_id=${alice.id}`, { serviceKey: SERVICE_KEY });
    expect(plain.status).toBe(200);
    const list = (await plain.json()) as Array<{ user_id: string }>;
    expect(validateBapi("Session.List", list).errors).toEqual([]);
    expect(list.length).toBeGreaterThanOrEqual(5);
    expect(list.every((s) => s.user_id === alice.id)).toBe(true);

    const paged = await call(`/v1/sessions?user_id=${alice.id}&paginated=true&limit=2&offset=1`, {
      serviceKey: SERVICE_KEY,
    });
    const page = (await paged.json()) as { data: unknown[]; total_count: number };
    expect(page.data).toHaveLength(2);
    expect(page.total_count).toBe(list.length);
    expect(validateBapi("Session.List", page.data).errors).toEqual([]);
  });

  it("answers the SDK's active-session question from the cache", async () => {
    const path = `/v1/sessions?user_id=${alice.id}&status=active&paginated=true`;
    const first = await call(path, { serviceKey: SERVICE_KEY });
    expect(first.headers.get("X-Cache")).toBe("MISS");
    const body = (await first.json()) as { data: Array<{ status: string }>; total_count: number };
    expect(body.total_count).toBe(3);
    expect(body.data.every((s) => s.status === "active")).toBe(true);
    const before = await upstream();
    const second = await call(path, { serviceKey: SERVICE_KEY });
    expect(second.headers.get("X-Cache")).toBe("HIT");
    expect(await second.json()).toEqual(body);
    expect(await upstream()).toBe(before);
  });

  it("creates, gets, refreshes, revokes and mints for any session", async () => {
    const created = await call("/v1/sessions", { method: "POST", serviceKey: SERVICE_KEY, json: { user_id: bob.id } });
    expect(created.status).toBe(200);
    const session = (await created.json()) as { id: string; status: string; user_id: string };
    expect(validateBapi("Session", session).errors).toEqual([]);
    expect(session).toMatchObject({ status: "active", user_id: bob.id });

    const got = await call(`/v1/sessions/${session.id}`, { serviceKey: TEST_SERVICE_KEYS[1] });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ id: session.id });

    const token = await call(`/v1/sessions/${session.id}/tokens`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(token.status).toBe(200);
    expect(await token.json()).toMatchObject({ object: "token", jwt: expect.any(String) });

    const template = await call(`/v1/sessions/${session.id}/tokens/internal_admin`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
      json: { expires_in_seconds: 120 },
    });
    expect(template.status).toBe(200);

    const revoked = await call(`/v1/sessions/${session.id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(revoked.status).toBe(200);
    const revokedBody = await revoked.json();
    expect(validateBapi("Session", revokedBody).errors).toEqual([]);
    expect(revokedBody).toMatchObject({ id: session.id, status: "revoked" });
    expect(await kvJson(kvKeys.revoked(session.id))).toMatchObject({ status: "revoked" });
  });

  it("passes Clerk's own 404 through in Clerk's envelope", async () => {
    const response = await call("/v1/sessions/sess_doesNotExist0000000000000000", { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(404);
    expect((await errorBody(response)).errors[0]?.code).toBe("resource_not_found");
  });

  it("refuses a service key that is not configured, without calling Clerk", async () => {
    const response = await call("/v1/sessions", { serviceKey: "gw_test_notAConfiguredKey_00000" });
    expect(response.status).toBe(401);
    expect(await upstream()).toBe(0);
  });
});

describe("users get the same operations, on their own sessions only", () => {
  it("lists only their own sessions; naming another user is a 403 with no upstream call", async () => {
    const token = await freshToken(aliceDesktop.id);
    const own = await call("/v1/sessions?paginated=true&limit=50", { token });
    expect(own.status).toBe(200);
    const body = (await own.json()) as { data: Array<{ user_id: string }> };
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.data.every((s) => s.user_id === alice.id)).toBe(true);

    const before = await upstream();
    const other = await call(`/v1/sessions?user_id=${bob.id}`, { token });
    expect(other.status).toBe(403);
    expect((await errorBody(other)).errors[0]?.code).toBe("authorization_invalid");
    expect(await upstream()).toBe(before);
  });

  it("cannot create sessions", async () => {
    const token = await freshToken(aliceDesktop.id);
    const response = await call("/v1/sessions", { method: "POST", token, json: { user_id: alice.id } });
    expect(response.status).toBe(403);
    expect(await upstream()).toBe(0);
  });

  it("gets their own session, and a 404 for anyone else's", async () => {
    const token = await freshToken(aliceDesktop.id);
    const own = await call(`/v1/sessions/${alicePhone.id}`, { token });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ id: alicePhone.id, user_id: alice.id });
    const others = await call(`/v1/sessions/${bobDesktop.id}`, { token });
    const missing = await call("/v1/sessions/sess_doesNotExist0000000000000000", { token });
    expect(others.status).toBe(404);
    expect(await errorBody(others)).toEqual(await errorBody(missing));
  });

  it("revokes their own session, never another user's", async () => {
    const signedIn = await signIn("alice");
    const others = await call(`/v1/sessions/${bobDesktop.id}/revoke`, { method: "POST", token: signedIn.token });
    expect(others.status).toBe(404);
    expect((await clerkSession(bobDesktop.id)).status).toBe("active");
    const own = await call(`/v1/sessions/${alicePhone.id}/revoke`, { method: "POST", token: signedIn.token });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ id: alicePhone.id, status: "revoked" });
  });

  it("mints tokens only for the session they are signed in with", async () => {
    const token = await freshToken(aliceDesktop.id);
    const own = await call(`/v1/sessions/${aliceDesktop.id}/tokens`, { method: "POST", token });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ object: "token", jwt: expect.any(String) });

    const before = await upstream();
    for (const id of [alicePhone.id, bobDesktop.id]) {
      const response = await call(`/v1/sessions/${id}/tokens`, { method: "POST", token });
      expect(response.status).toBe(403);
    }
    expect(await upstream()).toBe(before);
  });

  it("mints only JWT templates listed in JWT_TEMPLATES_ALLOWED", async () => {
    const token = await freshToken(aliceDesktop.id);
    const allowed = await call(`/v1/sessions/${aliceDesktop.id}/tokens/supabase`, { method: "POST", token });
    expect(allowed.status).toBe(200);
    const before = await upstream();
    const denied = await call(`/v1/sessions/${aliceDesktop.id}/tokens/internal_admin`, { method: "POST", token });
    expect(denied.status).toBe(403);
    expect(await upstream()).toBe(before);
  });

  it("refreshes with the session's expired token, and only for that session", async () => {
    const signedIn = await signIn("alice");
    const body = {
      expired_token: signedIn.token,
      refresh_token: signedIn.refresh_token,
      request_origin: "http://localhost:8787",
    };
    const ok = await call(`/v1/sessions/${signedIn.session_id}/refresh`, { method: "POST", json: body });
    expect(ok.status).toBe(200);
    const refreshed = await ok.json();
    expect(validateBapi("SessionRefresh", refreshed).errors).toEqual([]);

    const before = await upstream();
    const wrongSession = await call(`/v1/sessions/${alicePhone.id}/refresh`, { method: "POST", json: body });
    expect(wrongSession.status).toBe(401);
    const forged = await call(`/v1/sessions/${signedIn.session_id}/refresh`, {
      method: "POST",
      json: { ...body, expired_token: `${signedIn.token.slice(0, -4)}AAAA` },
    });
    expect(forged.status).toBe(401);
    expect(await upstream()).toBe(before);
  });
});

describe("anonymous callers are refused on every route before any upstream call", () => {
  const routes: Array<[string, string]> = [
    ["GET", "/v1/me/sessions/active"],
    ["GET", "/v1/me/sessions"],
    ["POST", `/v1/me/sessions/${aliceDesktop.id}/revoke`],
    ["GET", "/v1/sessions"],
    ["POST", "/v1/sessions"],
    ["GET", `/v1/sessions/${aliceDesktop.id}`],
    ["POST", `/v1/sessions/${aliceDesktop.id}/revoke`],
    ["POST", `/v1/sessions/${aliceDesktop.id}/tokens`],
    ["POST", `/v1/sessions/${aliceDesktop.id}/tokens/supabase`],
  ];
  it.each(routes)("%s %s → 401", async (method, path) => {
    const json = method === "POST" && path === "/v1/sessions" ? { user_id: alice.id } : undefined;
    const response = await call(path, { method, ...(json ? { json } : {}) });
    expect(response.status).toBe(401);
    expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    expect(await upstream()).toBe(0);
  });

  it("POST /v1/sessions/{id}/refresh without a token → 400 (expired_token is required)", async () => {
    const response = await call(`/v1/sessions/${aliceDesktop.id}/refresh`, { method: "POST", json: {} });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).errors[0]?.meta).toEqual({ param_name: "expired_token" });
    expect(await upstream()).toBe(0);
  });
});

describe("every input is validated before anything else happens", () => {
  const cases: Array<[string, string, unknown, string]> = [
    ["GET", "/v1/sessions/sess_short", undefined, "session_id"],
    ["GET", "/v1/sessions/user_abcdefghijklmnopqrstuvwxyz0", undefined, "session_id"],
    ["GET", "/v1/sessions/sess_abc%2F..%2Fusers", undefined, "session_id"],
    ["GET", "/v1/sessions?limit=0", undefined, "limit"],
    ["GET", "/v1/sessions?limit=501", undefined, "limit"],
    ["GET", "/v1/sessions?offset=-1", undefined, "offset"],
    ["GET", "/v1/sessions?status=pending", undefined, "status"],
    ["GET", "/v1/sessions?user_id=bob", undefined, "user_id"],
    ["GET", "/v1/sessions?client_id=client_x&client_id=client_y", undefined, "client_id"],
    ["GET", "/v1/sessions?paginated=yes", undefined, "paginated"],
    ["POST", "/v1/sessions", {}, "user_id"],
    ["POST", "/v1/sessions", { user_id: "user_abcdefghijklmnopqrstuvwxyz0", role: "admin" }, "role"],
    ["POST", `/v1/sessions/${aliceDesktop.id}/tokens`, { expires_in_seconds: 5 }, "expires_in_seconds"],
    ["POST", `/v1/sessions/${aliceDesktop.id}/tokens/bad%20name`, undefined, "template_name"],
    ["POST", `/v1/sessions/${aliceDesktop.id}/tokens/${"t".repeat(65)}`, undefined, "template_name"],
    ["POST", `/v1/sessions/${aliceDesktop.id}/revoke`, { force: true }, "force"],
    ["POST", `/v1/sessions/${aliceDesktop.id}/refresh`, { expired_token: "x", refresh_token: "y" }, "request_origin"],
  ];
  it.each(cases)("%s %s %j → 400 naming %s", async (method, path, json, param) => {
    // Authenticated as a service, so nothing but validation stands between the request and Clerk.
    const response = await call(path, { method, serviceKey: SERVICE_KEY, ...(json !== undefined ? { json } : {}) });
    expect(response.status).toBe(400);
    const body = await errorBody(response);
    expect(body.errors[0]?.code).toBe("form_param_invalid");
    expect(String(body.errors[0]?.meta?.param_name)).toContain(param);
    expect(await upstream()).toBe(0);
  });

  it("refuses malformed JSON bodies", async () => {
    const response = await call("/v1/sessions", {
      method: "POST",
      serviceKey: SERVICE_KEY,
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).errors[0]?.code).toBe("form_param_invalid");
    expect(await upstream()).toBe(0);
  });

  it("answers unknown routes with Clerk's 404 envelope", async () => {
    const response = await call("/v1/users", { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(404);
    expect((await errorBody(response)).errors[0]?.code).toBe("resource_not_found");
  });
});
