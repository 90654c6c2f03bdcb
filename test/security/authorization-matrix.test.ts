import { beforeEach, describe, expect, it } from "vitest";
import {
  clearCalls,
  clerkSession,
  emulatorCalls,
  SEED,
  type SignedIn,
  signIn,
  upstreamCalls,
} from "../support/emulator";
import { freshWorld } from "../support/fresh-world";
import { type CallOptions, call, errorBody, SERVICE_KEY } from "../support/gateway";

/**
 * Every route × {owner, other user, service, anonymous}. The owner is alice signed in on a
 * fresh device (a recent first factor); the other user is bob; the target is another of
 * alice's sessions. Refusals that could reveal whether a session exists are 404s whose body
 * is identical to the one for a session that does not exist at all.
 */

const MISSING = "sess_doesNotExist0000000000000000";
let owner: SignedIn;
let target: SignedIn;
let other: SignedIn;

beforeEach(async () => {
  await freshWorld();
  owner = await signIn("alice");
  target = await signIn("alice");
  other = await signIn("bob");
  await clearCalls();
});

type Who = "owner" | "other" | "service" | "anonymous";
const as = (who: Who): CallOptions =>
  who === "owner"
    ? { token: owner.token }
    : who === "other"
      ? { token: other.token }
      : who === "service"
        ? { serviceKey: SERVICE_KEY }
        : {};

async function expectCode(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const body = await errorBody(response);
  expect(body.errors[0]?.code).toBe(code);
  return body;
}

/** A refusal made before Clerk is involved: 401/403, nothing upstream. */
async function expectRefusedLocally(request: () => Promise<Response>, status: 401 | 403) {
  await clearCalls();
  const response = await request();
  await expectCode(response, status, status === 401 ? "authentication_invalid" : "authorization_invalid");
  expect(await upstreamCalls()).toBe(0);
}

describe("/v1/me: users see and revoke only their own sessions; services are refused", () => {
  it("GET /v1/me/sessions/active and /v1/me/sessions", async () => {
    for (const path of ["/v1/me/sessions/active", "/v1/me/sessions"]) {
      const mine = await call(path, as("owner"));
      expect(mine.status).toBe(200);
      const ids = ((await mine.json()) as Array<{ id: string }>).map((s) => s.id);
      expect(ids).toContain(target.session_id);
      const theirs = await call(path, as("other"));
      expect(theirs.status).toBe(200);
      const otherIds = ((await theirs.json()) as Array<{ id: string }>).map((s) => s.id);
      expect(otherIds).not.toContain(target.session_id);
      expect(otherIds).toContain(other.session_id);
      await expectRefusedLocally(() => call(path, as("service")), 403);
      await expectRefusedLocally(() => call(path, as("anonymous")), 401);
    }
  });

  it("POST /v1/me/sessions/{id}/revoke: other user gets the same 404 as for a missing session", async () => {
    const path = `/v1/me/sessions/${target.session_id}/revoke`;
    await expectRefusedLocally(() => call(path, { method: "POST", ...as("anonymous") }), 401);
    await expectRefusedLocally(() => call(path, { method: "POST", ...as("service") }), 403);
    const foreign = await expectCode(await call(path, { method: "POST", ...as("other") }), 404, "resource_not_found");
    const missing = await expectCode(
      await call(`/v1/me/sessions/${MISSING}/revoke`, { method: "POST", ...as("other") }),
      404,
      "resource_not_found",
    );
    expect(foreign).toEqual(missing);
    expect((await emulatorCalls()).filter((c) => c.path.endsWith("/revoke"))).toHaveLength(0);
    expect((await clerkSession(target.session_id)).status).toBe("active");
    expect((await call(path, { method: "POST", ...as("owner") })).status).toBe(200);
    expect((await clerkSession(target.session_id)).status).toBe("revoked");
  });
});

describe("GET /v1/sessions: users list only their own; services any", () => {
  it("user_id of another user is 403 for users, allowed for services", async () => {
    const path = `/v1/sessions?user_id=${SEED.users.alice.id}`;
    expect((await call(path, as("owner"))).status).toBe(200);
    await expectRefusedLocally(() => call(path, as("other")), 403);
    expect((await call(path, as("service"))).status).toBe(200);
    await expectRefusedLocally(() => call(path, as("anonymous")), 401);
  });

  it("without user_id a user gets only their own sessions", async () => {
    const response = await call("/v1/sessions?status=active", as("other"));
    expect(response.status).toBe(200);
    const list = (await response.json()) as Array<{ user_id: string }>;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((s) => s.user_id === SEED.users.bob.id)).toBe(true);
  });
});

describe("POST /v1/sessions: services only", () => {
  it("users are 403, anonymous 401, both without calling Clerk", async () => {
    const init = (who: Who): CallOptions => ({ method: "POST", json: { user_id: SEED.users.alice.id }, ...as(who) });
    await expectRefusedLocally(() => call("/v1/sessions", init("owner")), 403);
    await expectRefusedLocally(() => call("/v1/sessions", init("other")), 403);
    await expectRefusedLocally(() => call("/v1/sessions", init("anonymous")), 401);
    expect((await call("/v1/sessions", init("service"))).status).toBe(200);
  });
});

describe("GET /v1/sessions/{id} and POST …/revoke: own sessions only, 404 otherwise", () => {
  it("GET: owner and service 200; other user the same 404 as a missing session", async () => {
    const path = `/v1/sessions/${target.session_id}`;
    expect((await call(path, as("owner"))).status).toBe(200);
    expect((await call(path, as("service"))).status).toBe(200);
    await expectRefusedLocally(() => call(path, as("anonymous")), 401);
    const foreign = await expectCode(await call(path, as("other")), 404, "resource_not_found");
    const missing = await expectCode(await call(`/v1/sessions/${MISSING}`, as("other")), 404, "resource_not_found");
    expect(foreign).toEqual(missing);
  });

  it("revoke: other user 404 (nothing revoked), anonymous 401, owner and service 200", async () => {
    const path = `/v1/sessions/${target.session_id}/revoke`;
    await expectRefusedLocally(() => call(path, { method: "POST", ...as("anonymous") }), 401);
    const foreign = await expectCode(await call(path, { method: "POST", ...as("other") }), 404, "resource_not_found");
    const missing = await expectCode(
      await call(`/v1/sessions/${MISSING}/revoke`, { method: "POST", ...as("other") }),
      404,
      "resource_not_found",
    );
    expect(foreign).toEqual(missing);
    expect((await emulatorCalls()).filter((c) => c.path.endsWith("/revoke"))).toHaveLength(0);
    expect((await call(path, { method: "POST", ...as("owner") })).status).toBe(200);
    const second = await signIn("alice");
    expect((await call(`/v1/sessions/${second.session_id}/revoke`, { method: "POST", ...as("service") })).status).toBe(
      200,
    );
  });
});

describe("POST …/tokens and …/tokens/{template}: the caller's current session only", () => {
  it("tokens: owner for the current session 200; any other session the same 403 whether it exists or not", async () => {
    expect((await call(`/v1/sessions/${owner.session_id}/tokens`, { method: "POST", ...as("owner") })).status).toBe(
      200,
    );
    const sibling = await expectCode(
      await call(`/v1/sessions/${target.session_id}/tokens`, { method: "POST", ...as("owner") }),
      403,
      "authorization_invalid",
    );
    const foreign = await expectCode(
      await call(`/v1/sessions/${owner.session_id}/tokens`, { method: "POST", ...as("other") }),
      403,
      "authorization_invalid",
    );
    const missing = await expectCode(
      await call(`/v1/sessions/${MISSING}/tokens`, { method: "POST", ...as("other") }),
      403,
      "authorization_invalid",
    );
    expect(foreign).toEqual(missing);
    expect(sibling).toEqual(missing);
    expect((await emulatorCalls()).filter((c) => c.path.includes("/tokens"))).toHaveLength(1);
    await expectRefusedLocally(
      () => call(`/v1/sessions/${owner.session_id}/tokens`, { method: "POST", ...as("anonymous") }),
      401,
    );
    expect((await call(`/v1/sessions/${target.session_id}/tokens`, { method: "POST", ...as("service") })).status).toBe(
      200,
    );
  });

  it("template tokens: allowed templates only for users; any for services", async () => {
    const path = (sid: string, template: string) => `/v1/sessions/${sid}/tokens/${template}`;
    expect((await call(path(owner.session_id, "supabase"), { method: "POST", ...as("owner") })).status).toBe(200);
    await expectRefusedLocally(
      () => call(path(owner.session_id, "internal_admin"), { method: "POST", ...as("owner") }),
      403,
    );
    await expectRefusedLocally(() => call(path(owner.session_id, "supabase"), { method: "POST", ...as("other") }), 403);
    await expectRefusedLocally(
      () => call(path(owner.session_id, "supabase"), { method: "POST", ...as("anonymous") }),
      401,
    );
    expect((await call(path(owner.session_id, "internal_admin"), { method: "POST", ...as("service") })).status).toBe(
      200,
    );
  });
});

describe("POST …/refresh: the session's own token, or a service", () => {
  it("owner's token 200; another user's token 401; a user's Authorization 403; service 200", async () => {
    const body = (token: string) => ({
      expired_token: token,
      refresh_token: owner.refresh_token,
      request_origin: "http://localhost:8787",
    });
    const path = `/v1/sessions/${owner.session_id}/refresh`;
    await expectRefusedLocally(() => call(path, { method: "POST", json: body(other.token) }), 401);
    await expectRefusedLocally(() => call(path, { method: "POST", json: body(owner.token), ...as("owner") }), 403);
    expect((await call(path, { method: "POST", json: body(owner.token) })).status).toBe(200);
    expect((await call(path, { method: "POST", json: body(owner.token), ...as("service") })).status).toBe(200);
  });
});
