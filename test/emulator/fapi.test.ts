/**
 * The emulator's Frontend API, as clerk-js 6 calls it (form bodies, `_method`, `__clerk_db_jwt`,
 * `__clerk_api_version`/`_clerk_js_version`): environment, dev browser, client, password sign-in,
 * session tokens, touch, end/remove/revoke, sign-out, cookies, CORS and the proxy headers.
 * Responses are validated against Clerk's FAPI spec; sessions are the Backend API's own.
 */
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { TEST_API_URL, TEST_ISSUER, TEST_PUBLISHABLE_KEY, TEST_SECRET_KEY } from "../support/config";
import { clerkSession, emulatorCalls, SEED, setFault, webhookDeliveries } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { bapi, expectClerkError, expectDocumented, fapi, type Json, json } from "./support";

useFreshWorld();

const CLERK_JS_QUERY = "__clerk_api_version=2026-08-20&_clerk_js_version=6.40.0";
const APP = "http://localhost:5173";
const alice = SEED.users.alice;

/** A new dev browser, as clerk-js gets one on a development instance. */
async function devBrowser(): Promise<string> {
  const response = await fapi("POST", `/v1/dev_browser?${CLERK_JS_QUERY}`);
  expect(response.status).toBe(200);
  const body = await json<{ id: string }>(response);
  expect(response.headers.get("clerk-db-jwt")).toBe(body.id);
  return body.id;
}

/** `path` with clerk-js's query parameters and the dev browser. */
const q = (path: string, db: string, extra = "") =>
  `${path}${path.includes("?") ? "&" : "?"}${CLERK_JS_QUERY}&__clerk_db_jwt=${db}${extra}`;

async function signInWithPassword(db: string, identifier = "alice@example.com") {
  const response = await fapi("POST", q("/v1/client/sign_ins", db), {
    form: { strategy: "password", identifier, password: SEED.password },
    headers: { origin: APP },
  });
  expect(response.status).toBe(200);
  return json<{ response: Json; client: Json }>(response);
}

async function verify(jwt: string) {
  const jwks = await json<JSONWebKeySet>(await fetch(`${TEST_ISSUER}/.well-known/jwks.json`));
  return (await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: TEST_ISSUER })).payload;
}

describe("addressing", () => {
  it("serves the FAPI on the issuer's host and under /__fapi, apart from the Backend API", async () => {
    const byHost = await fapi("GET", `/v1/environment?${CLERK_JS_QUERY}`);
    expect(byHost.status).toBe(200);
    const env = await json(byHost);
    expectDocumented("fapi", "GET", "/v1/environment", 200, env);
    expect(env).toMatchObject({
      auth_config: { single_session_mode: true },
      display_config: { instance_environment_type: "development" },
    });
    const byPrefix = await fapi("GET", "/__fapi/v1/environment", { base: TEST_API_URL });
    expect(await json(byPrefix)).toEqual(env);

    // /v1/sessions is a Backend API list on api.clerk.com, and no FAPI route on the FAPI host.
    await expectClerkError(await fapi("GET", "/v1/sessions"), 404, "resource_not_found", "fapi");
    await expectClerkError(await bapi("GET", "/v1/client"), 404, "resource_not_found");
    await expectClerkError(await bapi("GET", "/v1/client", { key: null }), 401, "authentication_invalid");

    const calls = await emulatorCalls();
    expect(calls.filter((c) => c.api === "fapi").map((c) => c.path)).toEqual([
      "/v1/environment",
      "/v1/environment",
      "/v1/sessions",
    ]);
    expect(calls[0]).toMatchObject({ host: new URL(TEST_ISSUER).host, api_version: "2026-08-20" });
  });

  it("answers faults for api: fapi rules only", async () => {
    await setFault({ api: "fapi", path: "/v1/environment", mode: "503", times: 1 });
    await expectClerkError(await fapi("GET", "/v1/environment"), 503, "service_unavailable", "fapi");
    expect((await fapi("GET", "/v1/environment")).status).toBe(200);
    expect((await bapi("GET", "/v1/jwks")).status).toBe(200);
  });
});

describe("dev browser and client", () => {
  it("a development instance needs a dev browser for client requests", async () => {
    await expectClerkError(
      await fapi("GET", `/v1/client?${CLERK_JS_QUERY}`),
      401,
      "dev_browser_unauthenticated",
      "fapi",
    );
    const db = await devBrowser();
    const empty = await json(await fapi("GET", q("/v1/client", db)));
    expect(empty).toEqual({ response: null, client: null });
    const created = await fapi("POST", q("/v1/client", db));
    const body = await json(created);
    expectDocumented("fapi", "POST", "/v1/client", 200, body);
    expect(created.headers.get("set-cookie")).toBeNull();
    const again = await json(await fapi("GET", q("/v1/client", db)));
    expect((again.client as Json).id).toBe((body.client as Json).id);
  });

  it("knows a browser by its __client cookie too, and sets __client and __client_uat as Clerk does", async () => {
    const browser = await json<{ client_cookie: string; client_id: string }>(
      await fetch(`${TEST_API_URL}/__emulator/clients/${SEED.sessions.aliceDesktop.client_id}/browser`, {
        method: "POST",
      }),
    );
    const response = await fapi("GET", `/v1/client?${CLERK_JS_QUERY}`, {
      headers: { cookie: `__client=${browser.client_cookie}` },
    });
    const body = await json<{ client: { id: string; sessions: Json[]; last_active_session_id: string } }>(response);
    expectDocumented("fapi", "GET", "/v1/client", 200, body);
    expect(body.client.id).toBe(SEED.sessions.aliceDesktop.client_id);
    expect(body.client.last_active_session_id).toBe(SEED.sessions.aliceDesktop.id);
    const cookies = response.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith("__client="))).toMatch(/HttpOnly; Secure; SameSite=Lax/);
    expect(cookies.find((c) => c.startsWith("__client_uat="))).toMatch(/^__client_uat=[1-9]\d+;/);
    const calls = await emulatorCalls({ path: "/v1/client" });
    expect(calls[0]?.cookies).toEqual(["__client"]);
  });
});

describe("password sign-in", () => {
  it("signs in with identifier and password in one request; the session is the Backend API's", async () => {
    const db = await devBrowser();
    const body = await signInWithPassword(db);
    expectDocumented("fapi", "POST", "/v1/client/sign_ins", 200, body);
    expect(body.response).toMatchObject({ object: "sign_in_attempt", status: "complete" });
    const sessionId = String(body.response.created_session_id);
    const client = body.client as { id: string; sessions: Array<{ id: string; last_active_token: { jwt: string } }> };
    expect(client.sessions.map((s) => s.id)).toEqual([sessionId]);
    expect((await verify(client.sessions[0]?.last_active_token.jwt ?? "")).azp).toBe(APP);

    const held = await clerkSession(sessionId);
    expect(held).toMatchObject({ status: "active", user_id: alice.id, client_id: client.id });
    expect((await webhookDeliveries("session.created")).length).toBe(1);
    const logged = (await emulatorCalls({ path: "/v1/client/sign_ins" }))[0];
    expect(logged?.body).toContain("password=%5Bredacted%5D");
    expect(logged?.body).not.toContain(SEED.password);

    // Single-session instance: no second sign-in on the same client.
    const again = await fapi("POST", q("/v1/client/sign_ins", db), {
      form: { identifier: "bob", password: SEED.password, strategy: "password" },
    });
    await expectClerkError(again, 400, "session_exists", "fapi");
  });

  it("signs in in two steps with attempt_first_factor, and answers Clerk's form errors", async () => {
    const db = await devBrowser();
    await expectClerkError(
      await fapi("POST", q("/v1/client/sign_ins", db), { form: { identifier: "nobody@example.com" } }),
      422,
      "form_identifier_not_found",
      "fapi",
    );
    const first = await json<{ response: { id: string; status: string } }>(
      await fapi("POST", q("/v1/client/sign_ins", db), { form: { identifier: "bob" } }),
    );
    expectDocumented("fapi", "POST", "/v1/client/sign_ins", 200, first);
    expect(first.response.status).toBe("needs_first_factor");
    const path = `/v1/client/sign_ins/${first.response.id}/attempt_first_factor`;
    await expectClerkError(
      await fapi("POST", q(path, db), { form: { strategy: "password", password: "wrong" } }),
      422,
      "form_password_incorrect",
      "fapi",
    );
    const done = await json<{ response: { status: string; created_session_id: string } }>(
      await fapi("POST", q(path, db), { form: { strategy: "password", password: SEED.password } }),
    );
    expectDocumented("fapi", "POST", path, 200, done);
    expect(done.response.status).toBe("complete");
    expect((await clerkSession(done.response.created_session_id)).user_id).toBe(SEED.users.bob.id);
    const read = await json(await fapi("GET", q(`/v1/client/sign_ins/${first.response.id}`, db)));
    expectDocumented("fapi", "GET", `/v1/client/sign_ins/${first.response.id}`, 200, read);
  });
});

describe("sessions through the FAPI", () => {
  async function signedIn() {
    const db = await devBrowser();
    const body = await signInWithPassword(db);
    return { db, sessionId: String(body.response.created_session_id) };
  }

  it("mints tokens (azp = the page's origin), touches, and lists the user's active sessions", async () => {
    const { db, sessionId } = await signedIn();
    const tokens = await fapi(
      "POST",
      q(`/v1/client/sessions/${sessionId}/tokens`, db, `&_clerk_session_id=${sessionId}`),
      {
        form: {},
        headers: { origin: APP },
      },
    );
    const token = await json<{ jwt: string }>(tokens);
    expectDocumented("fapi", "POST", `/v1/client/sessions/${sessionId}/tokens`, 200, token);
    expect(await verify(token.jwt)).toMatchObject({ sid: sessionId, sub: alice.id, azp: APP });
    const template = await json<{ jwt: string }>(
      await fapi("POST", q(`/v1/client/sessions/${sessionId}/tokens/supabase`, db)),
    );
    expect((await verify(template.jwt)).email).toBe("alice@example.com");

    const touched = await json(
      await fapi("POST", q(`/v1/client/sessions/${sessionId}/touch`, db), { form: { intent: "focus" } }),
    );
    expectDocumented("fapi", "POST", `/v1/client/sessions/${sessionId}/touch`, 200, touched);
    const one = await json(await fapi("GET", q(`/v1/client/sessions/${sessionId}`, db)));
    expectDocumented("fapi", "GET", `/v1/client/sessions/${sessionId}`, 200, one);

    const active = await json<Json[]>(
      await fapi("GET", q("/v1/me/sessions/active", db, `&_clerk_session_id=${sessionId}`)),
    );
    expectDocumented("fapi", "GET", "/v1/me/sessions/active", 200, active);
    expect(active.map((s) => s.id).sort()).toEqual(
      [sessionId, SEED.sessions.aliceDesktop.id, SEED.sessions.alicePhone.id, SEED.sessions.aliceLaptop.id].sort(),
    );
  });

  it("revokes another device's session, ends and removes its own, with the Backend API's webhooks", async () => {
    const { db, sessionId } = await signedIn();
    const revoke = await fapi(
      "POST",
      q(`/v1/me/sessions/${SEED.sessions.aliceLaptop.id}/revoke`, db, `&_clerk_session_id=${sessionId}`),
    );
    const revoked = await json(revoke);
    expectDocumented("fapi", "POST", `/v1/me/sessions/${SEED.sessions.aliceLaptop.id}/revoke`, 200, revoked);
    expect((await clerkSession(SEED.sessions.aliceLaptop.id)).status).toBe("revoked");
    expect((await webhookDeliveries("session.revoked")).length).toBe(1);
    // Bob's session is not Alice's to revoke.
    await expectClerkError(
      await fapi(
        "POST",
        q(`/v1/me/sessions/${SEED.sessions.bobDesktop.id}/revoke`, db, `&_clerk_session_id=${sessionId}`),
      ),
      404,
      "resource_not_found",
      "fapi",
    );

    const ended = await json(await fapi("POST", q(`/v1/client/sessions/${sessionId}/end`, db)));
    expectDocumented("fapi", "POST", `/v1/client/sessions/${sessionId}/end`, 200, ended);
    expect((ended.response as Json).status).toBe("ended");
    expect((await bapi("GET", `/v1/sessions/${sessionId}`)).ok).toBe(true);
    expect((await clerkSession(sessionId)).status).toBe("ended");
    expect((await webhookDeliveries("session.ended")).map((d) => JSON.parse(d.body).data.id)).toEqual([sessionId]);
    await expectClerkError(
      await fapi("POST", q(`/v1/client/sessions/${sessionId}/tokens`, db)),
      401,
      "signed_out",
      "fapi",
    );

    const second = await signedIn();
    const removed = await json(await fapi("POST", q(`/v1/client/sessions/${second.sessionId}/remove`, second.db)));
    expectDocumented("fapi", "POST", `/v1/client/sessions/${second.sessionId}/remove`, 200, removed);
    expect((await clerkSession(second.sessionId)).status).toBe("removed");
  });

  it("signs out of every session of the client with DELETE /v1/client/sessions (POST + _method), or DELETE /v1/client", async () => {
    const { db, sessionId } = await signedIn();
    const out = await fapi("POST", q("/v1/client/sessions?_method=DELETE", db));
    const body = await json<{ response: { sessions: Json[] } }>(out);
    expectDocumented("fapi", "DELETE", "/v1/client/sessions", 200, body);
    expect(body.response.sessions).toEqual([]);
    expect((await clerkSession(sessionId)).status).toBe("removed");
    expect((await webhookDeliveries("session.removed")).length).toBe(1);
    expect((await emulatorCalls({ path: "/v1/client/sessions" }))[0]?.method).toBe("DELETE");

    const next = await signInWithPassword(db);
    const destroyed = await json(await fapi("POST", q("/v1/client?_method=DELETE", db)));
    expectDocumented("fapi", "DELETE", "/v1/client", 200, destroyed);
    expect((await clerkSession(String(next.response.created_session_id))).status).toBe("ended");
    expect(await json(await fapi("GET", q("/v1/client", db)))).toEqual({ response: null, client: null });
  });
});

describe("CORS and proxies", () => {
  it("answers a browser's preflight and requests with its origin and credentials", async () => {
    const pre = await fapi("OPTIONS", "/v1/client/sign_ins", {
      headers: {
        origin: APP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(APP);
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    const env = await fapi("GET", "/v1/environment", { headers: { origin: APP } });
    expect(env.headers.get("access-control-allow-origin")).toBe(APP);
    expect(env.headers.get("vary")).toContain("Origin");
  });

  it("checks Clerk-Proxy-Url / Clerk-Secret-Key and records what Clerk saw, never the key", async () => {
    const shared = "https://frontend-api.clerk.dev";
    await expectClerkError(await fapi("GET", "/v1/environment", { base: shared }), 400, "host_invalid", "fapi");
    const proxyUrl = "https://app.example.test/__clerk";
    await expectClerkError(
      await fapi("GET", "/v1/environment", { base: shared, headers: { "clerk-proxy-url": proxyUrl } }),
      401,
      "proxy_request_missing_secret_key",
      "fapi",
    );
    await expectClerkError(
      await fapi("GET", "/v1/environment", {
        base: shared,
        headers: { "clerk-proxy-url": proxyUrl, "clerk-secret-key": "sk_test_wrong" },
      }),
      401,
      "proxy_request_invalid_secret_key",
      "fapi",
    );
    const ok = await fapi("GET", "/v1/environment", {
      base: shared,
      headers: { "clerk-proxy-url": proxyUrl, "clerk-secret-key": TEST_SECRET_KEY, "x-forwarded-for": "203.0.113.7" },
    });
    expect(ok.status).toBe(200);
    const calls = await emulatorCalls({ path: "/v1/environment" });
    expect(calls.map((c) => [c.proxy_url, c.proxy_secret_key, c.auth_ok])).toEqual([
      [null, null, true],
      [proxyUrl, null, false],
      [proxyUrl, "invalid", false],
      [proxyUrl, "ok", true],
    ]);
    expect(calls[3]?.forwarded_for).toBe("203.0.113.7");
    expect(JSON.stringify(calls)).not.toContain(TEST_SECRET_KEY);
  });

  it("works behind @clerk/backend's own Frontend API proxy (clerkFrontendApiProxy)", async () => {
    const { clerkFrontendApiProxy } = await import("@clerk/backend/proxy");
    const options = { publishableKey: TEST_PUBLISHABLE_KEY, secretKey: TEST_SECRET_KEY };
    const created = await clerkFrontendApiProxy(
      new Request(`https://app.example.test/__clerk/v1/dev_browser?${CLERK_JS_QUERY}`, { method: "POST" }),
      options,
    );
    expect(created.status).toBe(200);
    const db = (await json<{ id: string }>(created)).id;
    const signIn = await clerkFrontendApiProxy(
      new Request(`https://app.example.test/__clerk/v1/client/sign_ins?${CLERK_JS_QUERY}&__clerk_db_jwt=${db}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://app.example.test" },
        body: new URLSearchParams({ strategy: "password", identifier: "carol", password: SEED.password }).toString(),
      }),
      options,
    );
    expect(signIn.status).toBe(200);
    const body = await json<{ response: { created_session_id: string } }>(signIn);
    expect((await clerkSession(body.response.created_session_id)).user_id).toBe(SEED.users.carol.id);
    const calls = await emulatorCalls({ path: "/v1/client/sign_ins" });
    expect(calls[0]).toMatchObject({
      host: "frontend-api.clerk.dev",
      proxy_url: "https://app.example.test/__clerk",
      proxy_secret_key: "ok",
    });
  });
});
