import { describe, expect, it } from "vitest";
import { backgroundSettled } from "../src/core/wait-until";
import { kvKeys } from "../src/storage/kv-schema";
import { TEST_AUTHORIZED_PARTIES } from "./support/config";
import { clerkSession, emulatorCalls, freshToken, SEED, signIn } from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { call, errorBody, kvJson, SERVICE_KEY } from "./support/gateway";
import { validateFapi } from "./support/openapi";

const alice = SEED.users.alice;
const aliceDesktop = SEED.sessions.aliceDesktop;
const alicePhone = SEED.sessions.alicePhone;
const bobDesktop = SEED.sessions.bobDesktop;

useFreshWorld();

describe("GET /v1/me/sessions/active serves the caller's active sessions from KV", () => {
  it("answers a miss from Clerk, then hits without calling Clerk", async () => {
    const token = await freshToken(aliceDesktop.id);
    const first = await call("/v1/me/sessions/active", { token });
    expect(first.status).toBe(200);
    expect(first.headers.get("X-Cache")).toBe("MISS");
    expect(first.headers.get("Cache-Control")).toBe("private, no-store");
    const sessions = (await first.json()) as Array<{ id: string; status: string; latest_activity?: unknown }>;
    expect(validateFapi("Client.ActiveSessions", sessions).errors).toEqual([]);
    expect(sessions.map((s) => s.id).sort()).toEqual(
      [SEED.sessions.aliceDesktop.id, SEED.sessions.alicePhone.id, SEED.sessions.aliceLaptop.id].sort(),
    );
    expect(sessions.every((s) => s.status === "active" && s.latest_activity)).toBe(true);

    const listCalls = (await emulatorCalls()).filter((c) => c.path === "/v1/sessions");
    expect(listCalls).toHaveLength(1);
    expect(await kvJson(kvKeys.activeSessions(alice.id))).toMatchObject({
      sessions: expect.arrayContaining([expect.objectContaining({ id: aliceDesktop.id })]),
    });

    const before = (await emulatorCalls()).length;
    const second = await call("/v1/me/sessions/active", { token });
    expect(second.status).toBe(200);
    expect(second.headers.get("X-Cache")).toBe("HIT");
    expect(await second.json()).toEqual(sessions);
    expect(await emulatorCalls()).toHaveLength(before);
  });

  it("accepts _clerk_session_id naming the token's own session, refuses any other", async () => {
    const token = await freshToken(aliceDesktop.id);
    expect((await call(`/v1/me/sessions/active?_clerk_session_id=${aliceDesktop.id}`, { token })).status).toBe(200);
    const before = (await emulatorCalls()).length;
    const other = await call(`/v1/me/sessions/active?_clerk_session_id=${alicePhone.id}`, { token });
    expect(other.status).toBe(401);
    expect((await errorBody(other)).errors[0]?.code).toBe("authentication_invalid");
    const malformed = await call("/v1/me/sessions/active?_clerk_session_id=sess_../../x", { token });
    expect(malformed.status).toBe(400);
    expect((await errorBody(malformed)).errors[0]).toMatchObject({
      code: "form_param_invalid",
      meta: { param_name: "_clerk_session_id" },
    });
    expect(await emulatorCalls()).toHaveLength(before);
  });

  it("also reads the __session cookie", async () => {
    const token = await freshToken(aliceDesktop.id);
    const response = await call("/v1/me/sessions/active", { cookie: token });
    expect(response.status).toBe(200);
  });

  it("refuses anonymous callers (401) and services (403) without calling Clerk", async () => {
    const anonymous = await call("/v1/me/sessions/active");
    expect(anonymous.status).toBe(401);
    expect((await errorBody(anonymous)).errors[0]?.code).toBe("authentication_invalid");
    const service = await call("/v1/me/sessions/active", { serviceKey: SERVICE_KEY });
    expect(service.status).toBe(403);
    expect((await errorBody(service)).errors[0]?.code).toBe("authorization_invalid");
    expect(await emulatorCalls()).toHaveLength(0);
  });
});

describe("GET /v1/me/sessions lists every status, FAPI-shaped", () => {
  it("returns all of alice's sessions and none of bob's", async () => {
    const token = await freshToken(aliceDesktop.id);
    const response = await call("/v1/me/sessions", { token });
    expect(response.status).toBe(200);
    const sessions = (await response.json()) as Array<{
      id: string;
      status: string;
      factor_verification_age: number[];
    }>;
    expect(validateFapi("Server.Sessions", sessions).errors).toEqual([]);
    const statuses = new Set(sessions.map((s) => s.status));
    expect(statuses).toEqual(new Set(["active", "ended", "revoked"]));
    expect(sessions.some((s) => s.id === bobDesktop.id)).toBe(false);
    expect(sessions.find((s) => s.id === aliceDesktop.id)?.factor_verification_age).toHaveLength(2);
  });
});

describe("POST /v1/me/sessions/{id}/revoke: users revoke only their own sessions", () => {
  it("revokes another of the caller's devices, at Clerk and in the cached list at once", async () => {
    const signedIn = await signIn("alice");
    // Warm the cache so the write-through is what removes the session.
    expect((await call("/v1/me/sessions/active", { token: signedIn.token })).headers.get("X-Cache")).toBe("MISS");
    const phoneToken = await freshToken(alicePhone.id);

    const response = await call(`/v1/me/sessions/${alicePhone.id}/revoke?_clerk_session_id=${signedIn.session_id}`, {
      method: "POST",
      token: signedIn.token,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { response: { id: string; status: string }; client: null };
    expect(validateFapi("Client.ClientWrappedSession", { ...body, client: null }).errors).toEqual([]);
    expect(body).toMatchObject({ response: { id: alicePhone.id, status: "revoked" }, client: null });

    const revokeCalls = (await emulatorCalls()).filter((c) => c.path === `/v1/sessions/${alicePhone.id}/revoke`);
    expect(revokeCalls).toHaveLength(1);
    const before = (await emulatorCalls()).length;
    const list = await call("/v1/me/sessions/active", { token: signedIn.token });
    expect(list.headers.get("X-Cache")).toBe("HIT");
    const ids = ((await list.json()) as Array<{ id: string }>).map((s) => s.id);
    expect(ids).not.toContain(alicePhone.id);
    expect(ids).toContain(signedIn.session_id);
    expect(await emulatorCalls()).toHaveLength(before);
    // KV is written after the answer (the revoke does not wait for KV's one write per key per second).
    await backgroundSettled();
    expect(await kvJson(kvKeys.revoked(alicePhone.id))).toMatchObject({ status: "revoked", source: "gateway" });
    const cached = await kvJson<{ sessions: Array<{ id: string }> }>(kvKeys.activeSessions(alice.id));
    expect(cached?.sessions.map((s) => s.id)).not.toContain(alicePhone.id);

    // The revoked device's token still verifies cryptographically; the gateway refuses it anyway.
    const refused = await call("/v1/me/sessions/active", { token: phoneToken });
    expect(refused.status).toBe(401);
    expect(await emulatorCalls()).toHaveLength(before);
    expect((await clerkSession(alicePhone.id)).status).toBe("revoked");
  });

  it("answers 404 for another user's session and for one that does not exist, revoking nothing", async () => {
    const signedIn = await signIn("alice");
    const others = await call(`/v1/me/sessions/${bobDesktop.id}/revoke`, { method: "POST", token: signedIn.token });
    const missing = await call(`/v1/me/sessions/sess_doesNotExist0000000000000000/revoke`, {
      method: "POST",
      token: signedIn.token,
    });
    expect(others.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await errorBody(others)).toEqual(await errorBody(missing));
    const revokes = (await emulatorCalls()).filter((c) => c.path.endsWith("/revoke"));
    expect(revokes).toHaveLength(0);
  });

  it("asks for a recent first-factor verification before removing another device", async () => {
    // Seeded sessions were signed into days ago: fva[0] is far above the 60-minute default.
    const token = await freshToken(aliceDesktop.id);
    const response = await call(`/v1/me/sessions/${alicePhone.id}/revoke`, { method: "POST", token });
    expect(response.status).toBe(403);
    expect((await errorBody(response)).errors[0]).toMatchObject({
      code: "session_reverification_required",
      meta: { reverification: { level: "first_factor", after_minutes: 60 } },
    });
    expect(await emulatorCalls()).toHaveLength(0);
  });

  it("lets a cookie-authenticated browser revoke only from an authorized origin", async () => {
    const signedIn = await signIn("alice");
    const path = `/v1/me/sessions/${alicePhone.id}/revoke`;
    const noOrigin = await call(path, { method: "POST", cookie: signedIn.token });
    const evil = await call(path, {
      method: "POST",
      cookie: signedIn.token,
      headers: { Origin: "https://evil.example" },
    });
    expect(noOrigin.status).toBe(403);
    expect(evil.status).toBe(403);
    expect((await emulatorCalls()).filter((c) => c.path.endsWith("/revoke"))).toHaveLength(0);
    const allowed = await call(path, {
      method: "POST",
      cookie: signedIn.token,
      headers: { Origin: TEST_AUTHORIZED_PARTIES[1] },
    });
    expect(allowed.status).toBe(200);
  });

  it("validates the session id before anything else", async () => {
    const response = await call("/v1/me/sessions/not-a-session/revoke", { method: "POST" });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).errors[0]).toMatchObject({
      code: "form_param_invalid",
      meta: { param_name: "session_id" },
    });
    expect(await emulatorCalls()).toHaveLength(0);
  });
});
