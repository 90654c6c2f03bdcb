/**
 * Tests of the Clerk emulator itself, in workerd: every /v1 operation (validated against
 * Clerk's OpenAPI schemas), tokens, refresh rules, webhooks, faults, dev and admin endpoints,
 * and the official @clerk/backend SDK talking to it directly.
 */
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { DEV_DEFAULTS, loadConfig } from "../emulator/src/config";
import { jwks, signSessionToken } from "../emulator/src/tokens";
import {
  EMULATOR_INSTANCE_ID,
  TEST_API_URL,
  TEST_ISSUER,
  TEST_SECRET_KEY,
  TEST_WEBHOOK_SECRET,
} from "./support/config";
import {
  clearCalls,
  clearFaults,
  clerkSession,
  clerkSessions,
  emulatorCalls,
  emulatorKid,
  expiredToken,
  freshToken,
  listFaults,
  resetEmulator,
  SEED,
  type SessionJSON,
  setFault,
  setSessionStatus,
  signClaims,
  signIn,
  tokenWith,
  upstreamCalls,
  type WebhookDelivery,
  webhookDeliveries,
} from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import {
  type ValidationResult,
  validateBapi,
  validateFapi,
  validateResponse,
  validateWebhookSchema,
} from "./support/openapi";

const BASE = TEST_API_URL;
const SESSION_CAT = "cl_B7d4PD111AAA";
const TEMPLATE_CAT = "cl_B7d4PD222AAA";
const ID = (prefix: string) => new RegExp(`^${prefix}_[0-9A-Za-z]{27}$`);

type Json = Record<string, unknown>;

/** A Backend API request with the secret key (unless `key` says otherwise). */
async function bapi(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; key?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? TEST_SECRET_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  return fetch(`${BASE}${path}`, { method, headers, body });
}

async function json<T = Json>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

function expectValid(result: ValidationResult): void {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

/** Asserts a Clerk error envelope with the given status and code, valid per the spec. */
async function expectClerkError(response: Response, status: number, code: string, paramName?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = await json<{ errors: Array<{ code: string; meta?: Json }>; clerk_trace_id: string }>(response);
  expectValid(validateBapi("ClerkErrors", body));
  expect(body.errors[0]?.code).toBe(code);
  expect(body.clerk_trace_id).toBe(response.headers.get("x-clerk-trace-id"));
  if (paramName !== undefined) expect(body.errors[0]?.meta).toMatchObject({ param_name: paramName });
  return body;
}

/** The instance keys, read from the Frontend API's public JWKS so no /v1 call is logged. */
async function instanceJwks(): Promise<ReturnType<typeof createLocalJWKSet>> {
  return createLocalJWKSet(await json<JSONWebKeySet>(await fetch(`${TEST_ISSUER}/.well-known/jwks.json`)));
}

async function verifySessionToken(jwt: string) {
  const { payload, protectedHeader } = await jwtVerify(jwt, await instanceJwks(), {
    algorithms: ["RS256"],
    issuer: TEST_ISSUER,
  });
  return { payload: payload as Json, header: protectedHeader as Json };
}

function verifyDelivery(delivery: WebhookDelivery): Json {
  const wh = new Webhook(TEST_WEBHOOK_SECRET);
  // @clerk/backend maps svix-* headers to webhook-* and verifies with standardwebhooks, as here.
  return wh.verify(delivery.body, {
    "webhook-id": delivery.headers["svix-id"],
    "webhook-timestamp": delivery.headers["svix-timestamp"],
    "webhook-signature": delivery.headers["svix-signature"],
  }) as Json;
}

const alice = SEED.users.alice;
const bob = SEED.users.bob;
const S = SEED.sessions;

useFreshWorld();

describe("seed", () => {
  it("has Clerk-shaped IDs and every session status", async () => {
    for (const user of Object.values(SEED.users)) {
      expect(user.id).toMatch(ID("user"));
    }
    for (const s of Object.values(S)) {
      expect(s.id).toMatch(ID("sess"));
      expect(s.client_id).toMatch(ID("client"));
      expect(s.activity_id).toMatch(ID("sact"));
    }
    const statuses = new Set(Object.values(S).map((s) => s.status));
    expect([...statuses].sort()).toEqual(
      ["abandoned", "active", "ended", "expired", "pending", "removed", "replaced", "revoked"].sort(),
    );
    // Every session is on its own client.
    expect(new Set(Object.values(S).map((s) => s.client_id)).size).toBe(Object.keys(S).length);
    const sessions = await clerkSessions(alice.id);
    expect(
      sessions
        .filter((s) => s.status === "active")
        .map((s) => s.id)
        .sort(),
    ).toEqual([S.aliceDesktop.id, S.alicePhone.id, S.aliceLaptop.id].sort());
    expect(sessions.find((s) => s.id === S.aliceDesktop.id)?.latest_activity).toMatchObject({
      object: "session_activity",
      id: S.aliceDesktop.activity_id,
      browser_name: "Chrome",
      city: "San Francisco",
      is_mobile: false,
    });
    expect(sessions.find((s) => s.id === S.alicePhone.id)?.latest_activity).toMatchObject({
      device_type: "iPhone",
      browser_name: "Safari",
      city: "London",
      is_mobile: true,
    });
    expect((await clerkSession(S.carolPending.id)).tasks).toEqual([{ key: "choose-organization" }]);
  });
});

describe("secret key authentication", () => {
  it("answers 401 authentication_invalid without a key", async () => {
    const response = await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}`, { key: null });
    await expectClerkError(response, 401, "authentication_invalid");
    const basic = await bapi("GET", "/v1/jwks", { key: null, headers: { authorization: "Basic abc" } });
    await expectClerkError(basic, 401, "authentication_invalid");
  });

  it("answers 401 clerk_key_invalid with Clerk's wording for a wrong key", async () => {
    const response = await bapi("GET", "/v1/sessions", { key: "sk_test_wrongwrongwrong" });
    const body = await expectClerkError(response, 401, "clerk_key_invalid");
    expect(body.errors[0]).toEqual({
      code: "clerk_key_invalid",
      message: "Secret Key is invalid",
      long_message: "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
    });
    expect(JSON.stringify(body)).not.toContain(TEST_SECRET_KEY);
  });

  it("logs every /v1 call with whether its key was right, and never the key", async () => {
    await bapi("GET", "/v1/jwks", { key: null });
    await bapi("GET", "/v1/jwks", { key: "sk_test_wrong" });
    await bapi("GET", "/v1/sessions?user_id=x", { headers: { "clerk-api-version": "2026-05-12" } });
    await fetch(`${BASE}/__dev/users`);
    const calls = await emulatorCalls();
    expect(calls.map((c) => [c.method, c.path, c.search, c.auth_ok])).toEqual([
      ["GET", "/v1/jwks", "", false],
      ["GET", "/v1/jwks", "", false],
      ["GET", "/v1/sessions", "?user_id=x", true],
    ]);
    expect(calls[2]).toMatchObject({ host: "api.clerk.com", api_version: "2026-05-12", fault: null });
    expect(typeof calls[0]?.at).toBe("number");
    expect(JSON.stringify(calls)).not.toContain(TEST_SECRET_KEY);
    await clearCalls();
    expect(await emulatorCalls()).toEqual([]);
  });

  it("answers 404 resource_not_found for unknown routes, and 400 for an unknown API version", async () => {
    await expectClerkError(await bapi("GET", "/v1/nope"), 404, "resource_not_found");
    await expectClerkError(await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}/revoke`), 404, "resource_not_found");
    await expectClerkError(await fetch(`${BASE}/__emulator/nope`), 404, "resource_not_found");
    const version = await bapi("GET", "/v1/jwks", { headers: { "clerk-api-version": "1999-01-01" } });
    await expectClerkError(version, 400, "api_version_invalid");
    const both = await bapi("GET", "/v1/jwks?__clerk_api_version=2026-05-12", {
      headers: { "clerk-api-version": "2026-05-12" },
    });
    await expectClerkError(both, 400, "api_version_invalid");
  });

  it("sets x-clerk-trace-id on every response", async () => {
    for (const response of [await bapi("GET", "/v1/jwks"), await fetch(`${BASE}/__dev/users`)]) {
      expect(response.headers.get("x-clerk-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

describe("GET /v1/jwks", () => {
  it("serves the instance's RSA key, its kid the instance ID and the start of the key's thumbprint", async () => {
    const response = await bapi("GET", "/v1/jwks");
    expect(response.status).toBe(200);
    const body = await json<{ keys: Json[] }>(response);
    expectValid(validateResponse("bapi", "GET", "/v1/jwks", 200, body));
    expect(body.keys).toHaveLength(1);
    expect(Object.keys(body.keys[0] ?? {})).toEqual(["use", "kty", "kid", "alg", "n", "e"]);
    expect(body.keys[0]).toMatchObject({ use: "sig", kty: "RSA", kid: await emulatorKid(), alg: "RS256", e: "AQAB" });
    const { n, e } = body.keys[0] as { n: string; e: string };
    const thumbprint = await calculateJwkThumbprint({ kty: "RSA", n, e }, "sha256");
    expect(body.keys[0]?.kid).toBe(`${EMULATOR_INSTANCE_ID}_${thumbprint.slice(0, 12)}`);
    // 2048-bit modulus: 256 bytes, 342 base64url characters.
    expect(body.keys[0]?.n).toHaveLength(342);
    const wellKnown = await json(await fetch(`${TEST_ISSUER}/.well-known/jwks.json`));
    expect(wellKnown).toEqual(body);
  });
});

describe("the signing key: SIGNING_KEY when given (npm start's persisted dev key), its kid derived from it", () => {
  const rsaJwk = async () => {
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    return (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey & { n: string; e: string };
  };
  const configWith = (key: unknown) => loadConfig({ SIGNING_KEY: typeof key === "string" ? key : JSON.stringify(key) });

  it("signs with the given key across restarts (a new config, the same key): same n, same kid, tokens verify", async () => {
    const key = await rsaJwk();
    const first = await jwks(configWith(key));
    expect(first.keys[0]?.n).toBe(key.n);
    const thumbprint = await calculateJwkThumbprint({ kty: "RSA", n: key.n, e: key.e }, "sha256");
    expect(first.keys[0]?.kid).toBe(`${DEV_DEFAULTS.INSTANCE_ID}_${thumbprint.slice(0, 12)}`);
    const restarted = configWith(key);
    expect(await jwks(restarted)).toEqual(first);
    const session = {
      ...(await clerkSession(S.aliceDesktop.id)),
      refresh_token: "",
      azp: "",
      first_factor_at: Date.now(),
      seq: 0,
    };
    const token = await signSessionToken(restarted, session, { azp: null });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(first as JSONWebKeySet));
    expect(protectedHeader.kid).toBe(first.keys[0]?.kid);
    expect(payload.sid).toBe(S.aliceDesktop.id);
  });

  it("another key is another kid: a verifier that cached the old JWKS fetches the new key instead of failing its signature", async () => {
    const [a, b] = [await jwks(configWith(await rsaJwk())), await jwks(configWith(await rsaJwk()))];
    expect(a.keys[0]?.kid).not.toBe(b.keys[0]?.kid);
    expect(a.keys[0]?.kid.startsWith(`${DEV_DEFAULTS.INSTANCE_ID}_`)).toBe(true);
  });

  it("refuses a SIGNING_KEY that is not an RSA private JWK, naming it", async () => {
    const { d: _d, ...publicOnly } = await rsaJwk();
    for (const bad of ["not json", { kty: "EC", crv: "P-256" }, publicOnly]) {
      expect(() => configWith(bad)).toThrow(/SIGNING_KEY/);
    }
  });
});
describe("GET /v1/sessions", () => {
  it("lists a user's sessions newest first as a bare array of Sessions", async () => {
    const response = await bapi("GET", `/v1/sessions?user_id=${alice.id}`);
    expect(response.status).toBe(200);
    const sessions = await json<SessionJSON[]>(response);
    expectValid(validateResponse("bapi", "GET", "/v1/sessions", 200, sessions));
    expectValid(validateBapi("Session.List", sessions));
    expect(validateBapi("Session.List", [{ object: "session" }]).valid).toBe(false);
    expect(sessions.map((s) => s.id).sort()).toEqual([...alice.session_ids].sort());
    const created = sessions.map((s) => s.created_at);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    for (const s of sessions) {
      expect(Object.keys(s)).toEqual([
        "object",
        "id",
        "user_id",
        "client_id",
        "actor",
        "status",
        "last_active_organization_id",
        "last_active_at",
        "latest_activity",
        "expire_at",
        "abandon_at",
        "updated_at",
        "created_at",
        "tasks",
      ]);
      // Millisecond timestamps.
      expect(s.created_at).toBeGreaterThan(1e12);
    }
  });

  it("paginates with paginated=true, limit and offset", async () => {
    const all = await json<SessionJSON[]>(await bapi("GET", `/v1/sessions?user_id=${alice.id}&limit=500`));
    const page = await json<{ data: SessionJSON[]; total_count: number }>(
      await bapi("GET", `/v1/sessions?user_id=${alice.id}&paginated=true&limit=2&offset=1`),
    );
    expect(page.total_count).toBe(5);
    expect(page.data).toEqual(all.slice(1, 3));
    for (const s of page.data) expectValid(validateBapi("Session", s));
    const beyond = await json<{ data: SessionJSON[]; total_count: number }>(
      await bapi("GET", `/v1/sessions?user_id=${alice.id}&paginated=true&offset=10`),
    );
    expect(beyond).toEqual({ data: [], total_count: 5 });
  });

  it("defaults to 10 results and filters by status and client", async () => {
    const everything = await json<SessionJSON[]>(await bapi("GET", "/v1/sessions"));
    expect(everything).toHaveLength(10);
    const total = await json<{ total_count: number }>(await bapi("GET", "/v1/sessions?paginated=true"));
    expect(total.total_count).toBe(Object.keys(S).length);
    const active = await json<SessionJSON[]>(await bapi("GET", `/v1/sessions?user_id=${bob.id}&status=active`));
    expect(active.map((s) => s.id).sort()).toEqual([S.bobDesktop.id, S.bobPhone.id].sort());
    const byClient = await json<SessionJSON[]>(await bapi("GET", `/v1/sessions?client_id=${S.bobExpired.client_id}`));
    expect(byClient.map((s) => [s.id, s.status])).toEqual([[S.bobExpired.id, "expired"]]);
    expect(await json(await bapi("GET", `/v1/sessions?user_id=${SEED.unknownUserId}`))).toEqual([]);
  });

  it("answers 422 form_param_invalid naming the parameter", async () => {
    const cases: Array<[string, string]> = [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["limit=ten", "limit"],
      ["offset=-1", "offset"],
      ["status=pending", "status"],
      ["status=bogus", "status"],
      ["paginated=yes", "paginated"],
    ];
    for (const [query, param] of cases) {
      await expectClerkError(await bapi("GET", `/v1/sessions?${query}`), 422, "form_param_invalid", param);
    }
  });
});

describe("POST /v1/sessions", () => {
  it("creates an active session on a new client and emits session.created", async () => {
    const response = await bapi("POST", "/v1/sessions", {
      body: { user_id: bob.id },
      headers: { "user-agent": "@clerk/backend@3.25.0" },
    });
    expect(response.status).toBe(200);
    const session = await json<SessionJSON>(response);
    expectValid(validateResponse("bapi", "POST", "/v1/sessions", 200, session));
    expect(session).toMatchObject({ object: "session", user_id: bob.id, status: "active", actor: null, tasks: null });
    expect(session.id).toMatch(ID("sess"));
    expect(session.client_id).toMatch(ID("client"));
    expect(Object.values(S).map((s) => s.client_id)).not.toContain(session.client_id);
    expect(session.latest_activity).toMatchObject({ object: "session_activity", is_mobile: false });
    expect(session.latest_activity?.id).toMatch(ID("sact"));
    expect(session.latest_activity?.browser_name).toBe("@clerk/backend@3.25.0".split("/")[0]);
    expect(session.expire_at).toBeGreaterThan(session.created_at);
    expect(session.abandon_at).toBeGreaterThan(session.expire_at);
    expect(await json(await bapi("GET", `/v1/sessions/${session.id}`))).toEqual(session);

    const [created] = await webhookDeliveries("session.created");
    expect(created).toBeDefined();
    const event = verifyDelivery(created as WebhookDelivery);
    expect(event).toMatchObject({ type: "session.created", data: { id: session.id, status: "active" } });
  });

  it("sets last_active_organization_id from active_organization_id", async () => {
    const response = await bapi("POST", "/v1/sessions", {
      body: { user_id: alice.id, active_organization_id: "org_2abcdefghijklmnopqrstuvwxyz" },
    });
    expect((await json<SessionJSON>(response)).last_active_organization_id).toBe("org_2abcdefghijklmnopqrstuvwxyz");
  });

  it("answers 404 for an unknown user, 422 without user_id, 400 for a non-JSON body", async () => {
    await expectClerkError(
      await bapi("POST", "/v1/sessions", { body: { user_id: SEED.unknownUserId } }),
      404,
      "resource_not_found",
    );
    await expectClerkError(await bapi("POST", "/v1/sessions", { body: {} }), 422, "form_param_missing", "user_id");
    await expectClerkError(await bapi("POST", "/v1/sessions"), 422, "form_param_missing", "user_id");
    await expectClerkError(
      await bapi("POST", "/v1/sessions", { body: { user_id: 42 } }),
      422,
      "form_param_invalid",
      "user_id",
    );
    await expectClerkError(
      await bapi("POST", "/v1/sessions", { rawBody: "{not json", headers: { "content-type": "application/json" } }),
      400,
      "request_body_invalid",
    );
    expect(await webhookDeliveries()).toEqual([]);
  });
});

describe("GET /v1/sessions/{id} and GET /v1/users/{id}", () => {
  it("returns one session, or 404", async () => {
    const response = await bapi("GET", `/v1/sessions/${S.carolPending.id}`);
    const session = await json<SessionJSON>(response);
    expectValid(validateResponse("bapi", "GET", `/v1/sessions/${S.carolPending.id}`, 200, session));
    expect(session).toMatchObject({
      id: S.carolPending.id,
      status: "pending",
      tasks: [{ key: "choose-organization" }],
    });
    const missing = await bapi("GET", `/v1/sessions/${SEED.unknownSessionId}`);
    const body = await expectClerkError(missing, 404, "resource_not_found");
    expectValid(validateResponse("bapi", "GET", `/v1/sessions/${SEED.unknownSessionId}`, 404, body));
  });

  it("returns a schema-valid BAPI User, or 404", async () => {
    const user = await json<Json>(await bapi("GET", `/v1/users/${alice.id}`));
    expectValid(validateBapi("User", user));
    expect(user).toMatchObject({
      id: alice.id,
      object: "user",
      first_name: "Alice",
      last_name: "Anderson",
      username: "alice",
      primary_email_address_id: alice.email_address_id,
      email_addresses: [{ id: alice.email_address_id, email_address: "alice@example.com" }],
      banned: false,
    });
    await expectClerkError(await bapi("GET", `/v1/users/${SEED.unknownUserId}`), 404, "resource_not_found");
  });
});

describe("POST /v1/sessions/{id}/tokens", () => {
  it("mints a v2 session token that verifies against /v1/jwks", async () => {
    const response = await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens`);
    expect(response.status).toBe(200);
    const body = await json<{ object: string; jwt: string }>(response);
    expectValid(validateResponse("bapi", "POST", `/v1/sessions/${S.aliceDesktop.id}/tokens`, 200, body));
    expectValid(validateBapi("Token", body));
    const { payload, header } = await verifySessionToken(body.jwt);
    expect(header).toEqual({ alg: "RS256", kid: await emulatorKid(), typ: "JWT", cat: SESSION_CAT });
    expect(Object.keys(payload).sort()).toEqual(
      ["azp", "exp", "fva", "iat", "iss", "jti", "nbf", "pla", "sid", "sts", "sub", "v"].sort(),
    );
    const iat = payload.iat as number;
    expect(payload).toMatchObject({
      azp: "http://localhost:8787",
      exp: iat + 60,
      nbf: iat - 10,
      iss: TEST_ISSUER,
      sid: S.aliceDesktop.id,
      sub: alice.id,
      v: 2,
      sts: "active",
      pla: "u:free",
    });
    expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(5);
    // Signed in two days ago: first factor age in minutes, no second factor.
    expect(payload.fva).toEqual([2 * 24 * 60, -1]);
    expect(payload.jti).toEqual(expect.any(String));
  });

  it("honours expires_in_seconds within 30..315360000 and answers 422 outside", async () => {
    const body = await json<{ jwt: string }>(
      await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens`, { body: { expires_in_seconds: 3600 } }),
    );
    const { payload } = await verifySessionToken(body.jwt);
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    const nullBody = await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens`, {
      body: { expires_in_seconds: null },
    });
    expect(nullBody.status).toBe(200);
    for (const bad of [29, 315360001, 45.5, "60", -1]) {
      await expectClerkError(
        await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens`, { body: { expires_in_seconds: bad } }),
        422,
        "form_param_invalid",
        "expires_in_seconds",
      );
    }
  });

  it("says sts: pending for a pending session", async () => {
    const body = await json<{ jwt: string }>(await bapi("POST", `/v1/sessions/${S.carolPending.id}/tokens`));
    expect((await verifySessionToken(body.jwt)).payload.sts).toBe("pending");
  });

  it("answers 401 for a session that is not active or pending, 404 for an unknown one", async () => {
    for (const s of [S.aliceEnded, S.aliceRevoked, S.bobExpired, S.bobRemoved, S.carolAbandoned, S.carolReplaced]) {
      const body = await expectClerkError(
        await bapi("POST", `/v1/sessions/${s.id}/tokens`),
        401,
        "authentication_invalid",
      );
      expect(body.errors[0]?.meta).toEqual({ session_id: s.id });
    }
    await expectClerkError(
      await bapi("POST", `/v1/sessions/${SEED.unknownSessionId}/tokens`),
      404,
      "resource_not_found",
    );
  });
});

describe("POST /v1/sessions/{id}/tokens/{template_name}", () => {
  it("mints template tokens with the template's claims, no sid and the template cat", async () => {
    const supabase = await json<{ object: string; jwt: string }>(
      await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens/supabase`),
    );
    expectValid(validateResponse("bapi", "POST", `/v1/sessions/${S.aliceDesktop.id}/tokens/supabase`, 200, supabase));
    const { payload, header } = await verifySessionToken(supabase.jwt);
    expect(header).toEqual({ alg: "RS256", kid: await emulatorKid(), typ: "JWT", cat: TEMPLATE_CAT });
    expect(payload).not.toHaveProperty("sid");
    expect(payload).not.toHaveProperty("v");
    expect(payload).toMatchObject({
      aud: "authenticated",
      role: "authenticated",
      email: "alice@example.com",
      app_metadata: {},
      user_metadata: {},
      azp: "http://localhost:8787",
      iss: TEST_ISSUER,
      sub: alice.id,
      exp: (payload.iat as number) + 60,
      nbf: (payload.iat as number) - 10,
    });

    const hasura = await json<{ jwt: string }>(await bapi("POST", `/v1/sessions/${S.bobPhone.id}/tokens/hasura`));
    expect((await verifySessionToken(hasura.jwt)).payload["https://hasura.io/jwt/claims"]).toEqual({
      "x-hasura-allowed-roles": ["user"],
      "x-hasura-default-role": "user",
      "x-hasura-user-id": bob.id,
    });

    const admin = await json<{ jwt: string }>(
      await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens/internal_admin`),
    );
    const adminClaims = (await verifySessionToken(admin.jwt)).payload;
    expect(adminClaims).toMatchObject({ role: "admin", name: "Alice Anderson" });
    expect((adminClaims.exp as number) - (adminClaims.iat as number)).toBe(300);

    const custom = await json<{ jwt: string }>(
      await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens/hasura`, { body: { expires_in_seconds: 120 } }),
    );
    const customClaims = (await verifySessionToken(custom.jwt)).payload;
    expect((customClaims.exp as number) - (customClaims.iat as number)).toBe(120);
  });

  it("answers 404 for an unknown template or session, 401 for an inactive session", async () => {
    await expectClerkError(
      await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens/firebase`),
      404,
      "resource_not_found",
    );
    await expectClerkError(
      await bapi("POST", `/v1/sessions/${SEED.unknownSessionId}/tokens/supabase`),
      404,
      "resource_not_found",
    );
    await expectClerkError(
      await bapi("POST", `/v1/sessions/${S.aliceRevoked.id}/tokens/supabase`),
      401,
      "authentication_invalid",
    );
  });
});

describe("POST /v1/sessions/{id}/refresh", () => {
  const origin = "https://app.example.com";

  it("exchanges an expired token and the refresh token for a new token", async () => {
    const signedIn = await signIn("bob", { origin });
    const expired = await expiredToken(signedIn.session_id);
    await expect(verifySessionToken(expired)).rejects.toThrow(/exp/);
    const response = await bapi("POST", `/v1/sessions/${signedIn.session_id}/refresh`, {
      body: { expired_token: expired, refresh_token: signedIn.refresh_token, request_origin: origin },
    });
    expect(response.status).toBe(200);
    const body = await json<{ object: string; jwt: string }>(response);
    expectValid(validateResponse("bapi", "POST", `/v1/sessions/${signedIn.session_id}/refresh`, 200, body));
    expect(body.object).toBe("token");
    const { payload } = await verifySessionToken(body.jwt);
    expect(payload).toMatchObject({ sid: signedIn.session_id, sub: bob.id, azp: origin, sts: "active" });
  });

  it("returns cookies for format: cookie, and works for seeded sessions", async () => {
    const expired = await expiredToken(S.aliceDesktop.id);
    const response = await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/refresh`, {
      body: {
        expired_token: expired,
        refresh_token: S.aliceDesktop.refresh_token,
        request_origin: origin,
        request_headers: { "user-agent": ["Mozilla/5.0"] },
        format: "cookie",
        request_originating_ip: "203.0.113.10",
      },
    });
    expect(response.status).toBe(200);
    const body = await json<{ object: string; cookies: string[] }>(response);
    expectValid(validateBapi("SessionRefresh", body));
    expect(body.object).toBe("cookies");
    expect(body.cookies).toHaveLength(1);
    const match = /^__session=([^;]+); Path=\/; Secure; SameSite=Lax$/.exec(body.cookies[0] ?? "");
    expect(match).not.toBeNull();
    expect((await verifySessionToken(match?.[1] ?? "")).payload.sid).toBe(S.aliceDesktop.id);
  });

  it("answers 401 for every validation failure", async () => {
    const signedIn = await signIn("alice");
    const expired = await expiredToken(signedIn.session_id);
    const other = await expiredToken(S.alicePhone.id);
    const refresh = (sessionId: string, body: Json) => bapi("POST", `/v1/sessions/${sessionId}/refresh`, { body });
    const base = { expired_token: expired, refresh_token: signedIn.refresh_token, request_origin: origin };
    const failures: Array<[string, Json]> = [
      ["wrong refresh token", { ...base, refresh_token: "rt_wrong" }],
      ["another session's token", { ...base, expired_token: other }],
      [
        "corrupted signature",
        { ...base, expired_token: await signClaims({ sid: signedIn.session_id }, {}, "invalid") },
      ],
      [
        "unsigned token",
        { ...base, expired_token: await signClaims({ sid: signedIn.session_id }, { alg: "none" }, "none") },
      ],
      ["foreign kid", { ...base, expired_token: await tokenWith(signedIn.session_id, {}, { kid: "ins_other" }) }],
      [
        "wrong issuer",
        { ...base, expired_token: await tokenWith(signedIn.session_id, { iss: "https://evil.example" }) },
      ],
      ["not a JWT", { ...base, expired_token: "garbage" }],
    ];
    for (const [, body] of failures) {
      await expectClerkError(await refresh(signedIn.session_id, body), 401, "authentication_invalid");
    }
    // The session's refresh token does not work for another session either.
    await expectClerkError(
      await refresh(S.alicePhone.id, { ...base, expired_token: other }),
      401,
      "authentication_invalid",
    );
    // A session that is no longer active cannot be refreshed.
    await setSessionStatus(signedIn.session_id, "ended");
    await expectClerkError(await refresh(signedIn.session_id, base), 401, "authentication_invalid");
  });

  it("answers 404 for an unknown session and 422 for malformed parameters", async () => {
    const expired = await expiredToken(S.aliceDesktop.id);
    const base = { expired_token: expired, refresh_token: S.aliceDesktop.refresh_token, request_origin: origin };
    await expectClerkError(
      await bapi("POST", `/v1/sessions/${SEED.unknownSessionId}/refresh`, { body: base }),
      404,
      "resource_not_found",
    );
    const path = `/v1/sessions/${S.aliceDesktop.id}/refresh`;
    await expectClerkError(
      await bapi("POST", path, { body: { ...base, extra: 1 } }),
      422,
      "form_param_unknown",
      "extra",
    );
    for (const missing of ["expired_token", "refresh_token", "request_origin"]) {
      const body: Json = { ...base };
      delete body[missing];
      await expectClerkError(await bapi("POST", path, { body }), 422, "form_param_missing", missing);
    }
    await expectClerkError(
      await bapi("POST", path, { body: { ...base, format: "jwt" } }),
      422,
      "form_param_invalid",
      "format",
    );
    await expectClerkError(
      await bapi("POST", path, { body: { ...base, request_headers: "x" } }),
      422,
      "form_param_invalid",
      "request_headers",
    );
  });
});

describe("POST /v1/sessions/{id}/revoke", () => {
  it("revokes an active session and emits a signed session.revoked event", async () => {
    const before = await clerkSession(S.aliceDesktop.id);
    const response = await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/revoke`);
    expect(response.status).toBe(200);
    const session = await json<SessionJSON>(response);
    expectValid(validateResponse("bapi", "POST", `/v1/sessions/${S.aliceDesktop.id}/revoke`, 200, session));
    expect(session.status).toBe("revoked");
    expect(session.updated_at).toBeGreaterThan(before.updated_at);
    expect({ ...session, status: "active", updated_at: before.updated_at }).toEqual(before);

    const deliveries = await webhookDeliveries();
    expect(deliveries.map((d) => d.type)).toEqual(["session.revoked"]);
    const delivery = deliveries[0] as WebhookDelivery;
    expect(delivery.id).toMatch(ID("msg"));
    expect(delivery.headers["svix-id"]).toBe(delivery.id);
    expect(delivery.headers["svix-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(delivery.headers["svix-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    const event = verifyDelivery(delivery);
    expect(event).toMatchObject({
      object: "event",
      type: "session.revoked",
      instance_id: EMULATOR_INSTANCE_ID,
      event_attributes: { http_request: { client_ip: expect.any(String), user_agent: expect.any(String) } },
    });
    expect(Math.abs((event.timestamp as number) - Date.now())).toBeLessThan(5000);
    const data = event.data as Json;
    const { user, ...sessionPart } = data;
    expect(sessionPart).toEqual((({ tasks: _t, ...rest }) => rest)(session));
    expectValid(validateWebhookSchema("Session", sessionPart));
    expectValid(validateBapi("User", user));
    expect(user).toMatchObject({ id: alice.id, object: "user" });
    // Tampering breaks the signature.
    expect(() => verifyDelivery({ ...delivery, body: delivery.body.replace("revoked", "removed") })).toThrow();
  });

  it("revokes a pending session, and leaves other statuses unchanged without an event", async () => {
    const pending = await json<SessionJSON>(await bapi("POST", `/v1/sessions/${S.carolPending.id}/revoke`));
    expect(pending).toMatchObject({ status: "revoked", tasks: null });
    for (const s of [S.aliceEnded, S.bobExpired, S.bobRemoved, S.aliceRevoked]) {
      const before = await clerkSession(s.id);
      const after = await json<SessionJSON>(await bapi("POST", `/v1/sessions/${s.id}/revoke`));
      expect(after).toEqual(before);
    }
    expect((await webhookDeliveries()).map((d) => [d.type, (JSON.parse(d.body) as { data: Json }).data.id])).toEqual([
      ["session.revoked", S.carolPending.id],
    ]);
  });

  it("stops token minting for the session and answers 404 for an unknown one", async () => {
    await bapi("POST", `/v1/sessions/${S.bobDesktop.id}/revoke`);
    await expectClerkError(await bapi("POST", `/v1/sessions/${S.bobDesktop.id}/tokens`), 401, "authentication_invalid");
    await expectClerkError(
      await bapi("POST", `/v1/sessions/${SEED.unknownSessionId}/revoke`),
      404,
      "resource_not_found",
    );
  });
});

describe("status changes inside Clerk (/__emulator/sessions/{id}/status)", () => {
  it("emits the matching event when Clerk has one, and only on a change", async () => {
    expect((await setSessionStatus(S.aliceDesktop.id, "ended")).status).toBe("ended");
    expect((await setSessionStatus(S.alicePhone.id, "removed")).status).toBe("removed");
    const pending = await setSessionStatus(S.aliceLaptop.id, "pending");
    expect(pending).toMatchObject({ status: "pending", tasks: [{ key: "choose-organization" }] });
    await setSessionStatus(S.aliceLaptop.id, "active");
    await setSessionStatus(S.bobDesktop.id, "expired");
    await setSessionStatus(S.bobPhone.id, "abandoned");
    await setSessionStatus(S.carolDesktop.id, "replaced");
    await setSessionStatus(S.aliceEnded.id, "ended");
    await setSessionStatus(S.carolDesktop.id, "revoked");
    const deliveries = await webhookDeliveries();
    expect(deliveries.map((d) => [d.type, (verifyDelivery(d).data as Json).id])).toEqual([
      ["session.ended", S.aliceDesktop.id],
      ["session.removed", S.alicePhone.id],
      ["session.pending", S.aliceLaptop.id],
      ["session.revoked", S.carolDesktop.id],
    ]);
    for (const d of deliveries) {
      const data = verifyDelivery(d).data as Json;
      expect(data).not.toHaveProperty("tasks");
      expectValid(validateBapi("User", data.user));
    }
    const expired = await clerkSession(S.bobDesktop.id);
    expect(expired.expire_at).toBeLessThanOrEqual(expired.updated_at);
    expect(await upstreamCalls()).toBe(0);
  });

  it("rejects unknown statuses and sessions", async () => {
    const bad = await fetch(`${BASE}/__emulator/sessions/${S.aliceDesktop.id}/status`, {
      method: "POST",
      body: JSON.stringify({ status: "deleted" }),
    });
    await expectClerkError(bad, 422, "form_param_invalid", "status");
    const missing = await fetch(`${BASE}/__emulator/sessions/${SEED.unknownSessionId}/status`, {
      method: "POST",
      body: JSON.stringify({ status: "ended" }),
    });
    await expectClerkError(missing, 404, "resource_not_found");
  });
});

describe("fault injection", () => {
  it("answers 5xx with Clerk's envelope, `times` limits it, and the call is still logged", async () => {
    const rule = await setFault({ method: "GET", path: "/v1/sessions/*", mode: "503", times: 1 });
    expect(rule).toMatchObject({ path: "/v1/sessions/*", mode: "503", times: 1, hits: 0 });
    await expectClerkError(await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}`), 503, "service_unavailable");
    expect((await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}`)).status).toBe(200);
    const calls = await emulatorCalls({ path: "/v1/sessions/*" });
    expect(calls.map((c) => c.fault)).toEqual(["503", null]);
    expect((await listFaults())[0]).toMatchObject({ hits: 1 });

    await setFault({ path: "/v1/jwks", mode: "500" });
    await expectClerkError(await bapi("GET", "/v1/jwks"), 500, "internal_clerk_error");
    await expectClerkError(await bapi("GET", "/v1/jwks"), 500, "internal_clerk_error");
    await clearFaults();
    expect((await bapi("GET", "/v1/jwks")).status).toBe(200);

    await setFault({ path: "/v1/**", mode: "502" });
    await expectClerkError(await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens`), 502, "bad_gateway");
  });

  it("answers 429 rate_limit_exceeded with Retry-After", async () => {
    await setFault({ path: "/v1/sessions", mode: "429", retry_after_seconds: 7 });
    const response = await bapi("GET", "/v1/sessions");
    expect(response.headers.get("retry-after")).toBe("7");
    await expectClerkError(response, 429, "rate_limit_exceeded");
  });

  it("matches method and path patterns precisely", async () => {
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "500" });
    expect((await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}`)).status).toBe(200);
    expect((await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/tokens`)).status).toBe(200);
    expect((await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/revoke`)).status).toBe(500);
  });

  it("applies before any state change: a faulted revoke revokes nothing", async () => {
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "503" });
    await expectClerkError(await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/revoke`), 503, "service_unavailable");
    expect((await clerkSession(S.aliceDesktop.id)).status).toBe("active");
    expect(await webhookDeliveries()).toEqual([]);
  });

  it("with after: true the change commits and only the answer is lost", async () => {
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "500", after: true, times: 1 });
    await expectClerkError(await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/revoke`), 500, "internal_clerk_error");
    expect((await clerkSession(S.aliceDesktop.id)).status).toBe("revoked");
    expect((await webhookDeliveries()).map((d) => d.type)).toEqual(["session.revoked"]);
    expect((await emulatorCalls())[0]?.fault).toBe("500 (after)");
  });

  it("returns malformed JSON or HTML with a 200", async () => {
    await setFault({ path: "/v1/sessions/*", mode: "malformed_json", times: 1 });
    const malformed = await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}`);
    expect(malformed.status).toBe(200);
    expect(malformed.headers.get("content-type")).toBe("application/json");
    const text = await malformed.text();
    expect(text).toBe('{"object":"sess');
    expect(() => JSON.parse(text)).toThrow();

    await setFault({ path: "/v1/sessions/*", mode: "wrong_content_type", times: 1 });
    const html = await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}`);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toBe("text/html");
    expect(await html.text()).toBe("<html>Bad gateway</html>");
  });

  it("drop makes the caller's fetch reject; hang does so after its delay", async () => {
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "drop", times: 1 });
    await expect(bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/revoke`)).rejects.toThrow(/connection dropped/);
    expect((await clerkSession(S.aliceDesktop.id)).status).toBe("active");

    await setFault({ path: "/v1/jwks", mode: "hang", delay_ms: 50, times: 1 });
    const started = Date.now();
    await expect(bapi("GET", "/v1/jwks")).rejects.toThrow(/connection dropped/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);

    // A drop after commit: Clerk revoked it, the caller never heard back.
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "drop", after: true, times: 1 });
    await expect(bapi("POST", `/v1/sessions/${S.alicePhone.id}/revoke`)).rejects.toThrow();
    expect((await clerkSession(S.alicePhone.id)).status).toBe("revoked");
  });

  it("hang holds the request until the caller gives up", async () => {
    await setFault({ path: "/v1/sessions/*", mode: "hang" });
    const started = Date.now();
    const pending = fetch(`${BASE}/v1/sessions/${S.aliceDesktop.id}`, {
      headers: { authorization: `Bearer ${TEST_SECRET_KEY}` },
      signal: AbortSignal.timeout(100),
    });
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await upstreamCalls({ path: "/v1/sessions/*" })).toBe(1);
  });

  it("slow delays the real answer", async () => {
    await setFault({ path: "/v1/sessions/*", mode: "slow", delay_ms: 80 });
    const started = Date.now();
    const response = await bapi("GET", `/v1/sessions/${S.aliceDesktop.id}`);
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect((await json<SessionJSON>(response)).id).toBe(S.aliceDesktop.id);
  });

  it("applies even to requests without a key, and rejects invalid specs", async () => {
    await setFault({ path: "/v1/jwks", mode: "503" });
    expect((await bapi("GET", "/v1/jwks", { key: null })).status).toBe(503);
    for (const spec of [
      { path: "/v1/jwks", mode: "418" },
      { path: "v1/jwks", mode: "500" },
      { path: "/v1/jwks", mode: "500", method: "BREW" },
      { path: "/v1/jwks", mode: "500", times: 0 },
      { path: "/v1/jwks", mode: "500", after: "yes" },
      { path: "/v1/jwks", mode: "500", colour: "red" },
    ]) {
      const response = await fetch(`${BASE}/__emulator/faults`, { method: "POST", body: JSON.stringify(spec) });
      await expectClerkError(response, 422, "form_param_invalid");
    }
  });
});

describe("development endpoints (/__dev)", () => {
  it("lists seeded users and their sessions, with CORS *", async () => {
    const response = await fetch(`${BASE}/__dev/users`, { headers: { origin: "http://localhost:8787" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const { users } = await json<{
      users: Array<{
        id: string;
        email_address: string;
        sessions: Array<{ id: string; status: string; device: string }>;
      }>;
    }>(response);
    expect(users.map((u) => u.id)).toEqual(Object.values(SEED.users).map((u) => u.id));
    const aliceRow = users.find((u) => u.id === alice.id);
    expect(aliceRow?.sessions.find((s) => s.id === S.aliceDesktop.id)).toEqual(
      expect.objectContaining({ status: "active", device: "Chrome 131.0.0.0 · Macintosh · San Francisco, US" }),
    );
    const preflight = await fetch(`${BASE}/__dev/sign_in`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:8787",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("signs in by id, email or username, on a new client, emitting session.created", async () => {
    const byId = await signIn("carol");
    const byEmail = await signIn({ email_address: "Carol@Example.com" });
    const byUsername = await signIn({ username: "carol" });
    for (const s of [byId, byEmail, byUsername]) {
      expect(s.user_id).toBe(SEED.users.carol.id);
      expect(s.session_id).toMatch(ID("sess"));
      expect(s.client_id).toMatch(ID("client"));
      expect(s.refresh_token.length).toBeGreaterThanOrEqual(32);
      const { payload } = await verifySessionToken(s.token);
      expect(payload).toMatchObject({ sid: s.session_id, sub: s.user_id, azp: "http://localhost:8787", fva: [0, -1] });
      expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    }
    expect(new Set([byId.client_id, byEmail.client_id, byUsername.client_id]).size).toBe(3);
    const created = await webhookDeliveries("session.created");
    expect(created.map((d) => (verifyDelivery(d).data as Json).id)).toEqual([
      byId.session_id,
      byEmail.session_id,
      byUsername.session_id,
    ]);
    expect(await upstreamCalls()).toBe(0);
  });

  it("records the device and the origin", async () => {
    const withDevice = await signIn("dave", {
      origin: "https://app.example.com",
      device: {
        device_type: "iPad",
        is_mobile: true,
        browser_name: "Safari",
        browser_version: "17.0",
        city: "Lisbon",
        country: "PT",
        ip_address: "192.0.2.1",
      },
    });
    expect((await verifySessionToken(withDevice.token)).payload.azp).toBe("https://app.example.com");
    expect((await clerkSession(withDevice.session_id)).latest_activity).toMatchObject({
      device_type: "iPad",
      is_mobile: true,
      browser_name: "Safari",
      city: "Lisbon",
      country: "PT",
      ip_address: "192.0.2.1",
    });
    // Tokens minted later keep the session's origin as azp.
    const later = await json<{ jwt: string }>(await bapi("POST", `/v1/sessions/${withDevice.session_id}/tokens`));
    expect((await verifySessionToken(later.jwt)).payload.azp).toBe("https://app.example.com");

    const withUa = await signIn("dave", {
      user_agent:
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    });
    expect((await clerkSession(withUa.session_id)).latest_activity).toMatchObject({
      device_type: "iPhone",
      is_mobile: true,
      browser_name: "Safari",
      browser_version: "18.1",
    });
  });

  it("gives each sign-in that names no device one of its own: never a seeded device, never an earlier sign-in's", async () => {
    const deviceOf = async (sessionId: string) => {
      const { users } = await json<{ users: Array<{ sessions: Array<{ id: string; device: string }> }> }>(
        await fetch(`${BASE}/__dev/users`),
      );
      return users.flatMap((u) => u.sessions).find((s) => s.id === sessionId)?.device;
    };
    const seeded = new Set(await Promise.all(Object.values(S).map((s) => deviceOf(s.id))));
    const seen: string[] = [];
    // More sign-ins than there are stand-in devices: the second round is told apart too.
    for (let i = 0; i < 10; i++) {
      const device = await deviceOf((await signIn("alice")).session_id);
      expect(device).toBeDefined();
      expect(seeded.has(device), `${device} is a seeded device`).toBe(false);
      expect(seen, `${device} repeats an earlier sign-in`).not.toContain(device);
      seen.push(device as string);
    }
    expect(seen[0]).toBe("Chrome 142.0.0.0 · Linux · Lisbon, PT");
    expect(seen[8]).toBe("Chrome 143.0.0.0 · Linux · Lisbon, PT");
  });

  it("answers 404 for an unknown user and 422 without an identifier", async () => {
    const unknown = await fetch(`${BASE}/__dev/sign_in`, {
      method: "POST",
      body: JSON.stringify({ email_address: "nobody@example.com" }),
    });
    await expectClerkError(unknown, 404, "resource_not_found");
    const none = await fetch(`${BASE}/__dev/sign_in`, { method: "POST", body: "{}" });
    await expectClerkError(none, 422, "form_param_missing", "user_id");
    expect(await webhookDeliveries()).toEqual([]);
  });

  it("mints fresh tokens for active and pending sessions only", async () => {
    const token = await freshToken(S.alicePhone.id, "https://app.example.com");
    expect((await verifySessionToken(token)).payload).toMatchObject({
      sid: S.alicePhone.id,
      azp: "https://app.example.com",
      sts: "active",
    });
    expect((await clerkSession(S.alicePhone.id)).last_active_at).toBeGreaterThan(Date.now() - 5000);
    expect((await verifySessionToken(await freshToken(S.carolPending.id))).payload.sts).toBe("pending");
    const ended = await fetch(`${BASE}/__dev/sessions/${S.aliceEnded.id}/token`, { method: "POST" });
    await expectClerkError(ended, 401, "authentication_invalid");
    const unknown = await fetch(`${BASE}/__dev/sessions/${SEED.unknownSessionId}/token`, { method: "POST" });
    await expectClerkError(unknown, 404, "resource_not_found");
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("admin endpoints (/__emulator)", () => {
  it("reset reseeds and clears calls, faults and webhooks, but keeps the signing key", async () => {
    const tokenBefore = await freshToken(S.aliceDesktop.id);
    await bapi("POST", `/v1/sessions/${S.aliceDesktop.id}/revoke`);
    const extra = await signIn("alice");
    await setFault({ path: "/v1/users/*", mode: "500" });
    expect(await upstreamCalls()).toBe(1);
    expect(await webhookDeliveries()).toHaveLength(2);

    await resetEmulator();
    expect(await emulatorCalls()).toEqual([]);
    expect(await listFaults()).toEqual([]);
    expect(await webhookDeliveries()).toEqual([]);
    expect((await clerkSession(S.aliceDesktop.id)).status).toBe("active");
    await expect(clerkSession(extra.session_id)).rejects.toThrow(/404/);
    expect((await bapi("GET", `/v1/users/${alice.id}`)).status).toBe(200);
    // Same key: the pre-reset token still verifies against the JWKS.
    expect((await verifySessionToken(tokenBefore)).payload.sid).toBe(S.aliceDesktop.id);
  });

  it("sign returns exactly the given claims, with the header merged over the defaults", async () => {
    const claims = { sub: alice.id, iss: "https://evil.example", custom: [1, 2] };
    const jwt = await signClaims(claims, { cat: SESSION_CAT });
    expect(decodeProtectedHeader(jwt)).toEqual({
      alg: "RS256",
      kid: await emulatorKid(),
      typ: "JWT",
      cat: SESSION_CAT,
    });
    const { payload } = await jwtVerify(jwt, await instanceJwks());
    expect(payload).toEqual(claims);

    const noneAlg = await signClaims(claims, { alg: "none" }, "none");
    expect(noneAlg.endsWith(".")).toBe(true);
    expect(decodeProtectedHeader(noneAlg).alg).toBe("none");
    await expect(jwtVerify(await signClaims(claims, {}, "invalid"), await instanceJwks())).rejects.toThrow();

    const missing = await fetch(`${BASE}/__emulator/sign`, { method: "POST", body: JSON.stringify({ header: {} }) });
    await expectClerkError(missing, 422, "form_param_missing", "claims");
  });

  it("lists sessions by user and status without logging /v1 calls", async () => {
    const sessions = await clerkSessions(SEED.users.carol.id);
    expect(sessions.map((s) => s.status).sort()).toEqual(["abandoned", "active", "pending", "replaced"]);
    const pending = await json<{ sessions: SessionJSON[] }>(await fetch(`${BASE}/__emulator/sessions?status=pending`));
    expect(pending.sessions.map((s) => s.id)).toEqual([S.carolPending.id]);
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("the official @clerk/backend SDK against the emulator", () => {
  it("lists, reads, mints, revokes and verifies like against Clerk", async () => {
    const { createClerkClient, verifyToken } = await import("@clerk/backend");
    const clerk = createClerkClient({ secretKey: TEST_SECRET_KEY, apiUrl: TEST_API_URL });

    const list = await clerk.sessions.getSessionList({ userId: alice.id, status: "active" });
    expect(list.totalCount).toBe(3);
    expect(list.data.map((s) => s.id).sort()).toEqual([S.aliceDesktop.id, S.alicePhone.id, S.aliceLaptop.id].sort());
    const listCall = (await emulatorCalls({ path: "/v1/sessions" }))[0];
    expect(listCall?.search).toContain("paginated=true");
    expect(listCall?.api_version).toBe("2026-05-12");

    const one = await clerk.sessions.getSession(S.alicePhone.id);
    expect(one.latestActivity?.city).toBe("London");

    const { jwt } = await clerk.sessions.getToken(S.aliceDesktop.id);
    const claims = await verifyToken(jwt, {
      secretKey: TEST_SECRET_KEY,
      apiUrl: TEST_API_URL,
      authorizedParties: ["http://localhost:8787"],
    });
    expect(claims.sid).toBe(S.aliceDesktop.id);

    const template = await clerk.sessions.getToken(S.aliceDesktop.id, "supabase");
    expect((await verifySessionToken(template.jwt)).payload.email).toBe("alice@example.com");

    const revoked = await clerk.sessions.revokeSession(S.aliceDesktop.id);
    expect(revoked.status).toBe("revoked");

    const created = await clerk.sessions.createSession({ userId: bob.id });
    expect(created.status).toBe("active");

    const user = await clerk.users.getUser(alice.id);
    expect(user.primaryEmailAddress?.emailAddress).toBe("alice@example.com");

    const error = await clerk.sessions.getSession(SEED.unknownSessionId).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, errors: [expect.objectContaining({ code: "resource_not_found" })] });
  });

  it("verifies the emulator's webhooks with verifyWebhook", async () => {
    const { verifyWebhook } = await import("@clerk/backend/webhooks");
    await setSessionStatus(S.bobPhone.id, "ended");
    const [delivery] = await webhookDeliveries("session.ended");
    const request = new Request("https://gateway.example/webhooks/clerk", {
      method: "POST",
      headers: { ...(delivery as WebhookDelivery).headers, "content-type": "application/json" },
      body: (delivery as WebhookDelivery).body,
    });
    const event = await verifyWebhook(request, { signingSecret: TEST_WEBHOOK_SECRET });
    expect(event.type).toBe("session.ended");
    expect((event.data as { id: string }).id).toBe(S.bobPhone.id);
  });
});

describe("the OpenAPI validation helper itself", () => {
  it("rejects what Clerk's schemas reject, and accepts OpenAPI nullables", async () => {
    const session = await clerkSession(S.aliceDesktop.id);
    expectValid(validateBapi("Session", session));
    expectValid(validateBapi("Session", { ...session, latest_activity: null, tasks: null, actor: null }));
    expect(validateBapi("Session", { ...session, extra: true }).valid).toBe(false);
    expect(validateBapi("Session", { ...session, status: "deleted" }).valid).toBe(false);
    expect(validateBapi("Session", { ...session, last_active_at: "yesterday" }).valid).toBe(false);
    const { client_id: _c, ...withoutClient } = session;
    expect(validateBapi("Session", withoutClient).errors.join("\n")).toContain("client_id");
    expect(validateBapi("Session", { ...session, latest_activity: { object: "session_activity" } }).valid).toBe(false);
    expect(validateBapi("Token", { object: "token" }).valid).toBe(false);
    expect(validateBapi("ClerkErrors", { errors: [{ code: "x", message: "y" }] }).valid).toBe(false);
    expect(validateResponse("bapi", "GET", "/v1/nowhere", 200, {}).valid).toBe(false);
    expect(() => validateBapi("NoSuchSchema", {})).toThrow(/NoSuchSchema/);
  });

  it("validates FAPI shapes too", () => {
    const active = {
      object: "session",
      id: S.aliceDesktop.id,
      status: "active",
      expire_at: 1,
      abandon_at: 2,
      last_active_at: 3,
      last_active_token: null,
      actor: null,
      tasks: null,
      latest_activity: { object: "session_activity", id: S.aliceDesktop.activity_id, is_mobile: false },
    };
    expectValid(validateFapi("Client.ActiveSessions", [active]));
    expect(validateFapi("Client.ActiveSession", { ...active, status: "replaced" }).valid).toBe(false);
    expectValid(validateResponse("fapi", "GET", "/v1/me/sessions/active", 200, [active]));
  });
});
