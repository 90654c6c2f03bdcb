/**
 * Test/admin endpoints (`/__emulator/*`, no auth): reset, call log, faults, webhook outbox,
 * out-of-band session changes and raw token signing. Not logged as upstream calls.
 */
import { Hono } from "hono";
import { calls, clearCalls } from "../calls";
import { browserFor } from "../clients";
import { contextOf } from "../context";
import { Errors } from "../errors";
import { addFault, clearFaults, listFaults, parseFaultSpec } from "../faults";
import { randomId } from "../ids";
import { apiKeyJSON, createJwtOAuthToken, createOpaqueOAuthToken, m2mTokenJSON, oauthTokenJSON } from "../machines";
import { type JsonObject, readJsonObject } from "../params";
import { findSessions, sessionJSON, setSessionStatus } from "../sessions";
import { reseed } from "../state";
import { type SignatureMode, signRaw } from "../tokens";
import { SESSION_STATUSES, type SessionStatus } from "../types";
import { clearDeliveries, deliveries } from "../webhooks";

export const admin = new Hono();

admin.post("/reset", (c) => {
  const rc = contextOf(c.req.raw);
  // The RSA key survives: tokens issued before a reset still verify, like a real instance's.
  reseed(rc.config.defaultAzp);
  clearCalls();
  clearFaults();
  clearDeliveries();
  return c.json({ reset: true });
});

admin.get("/calls", (c) => c.json({ calls: calls() }));
admin.delete("/calls", (c) => {
  clearCalls();
  return c.json({ calls: [] });
});

admin.get("/faults", (c) => c.json({ faults: listFaults() }));
admin.post("/faults", async (c) => {
  const rule = addFault(parseFaultSpec(await readJsonObject(c.req.raw)));
  return c.json({ fault: rule });
});
admin.delete("/faults", (c) => {
  clearFaults();
  return c.json({ faults: [] });
});

admin.get("/webhooks", (c) => c.json({ deliveries: deliveries() }));
admin.delete("/webhooks", (c) => {
  clearDeliveries();
  return c.json({ deliveries: [] });
});

/**
 * Adds a user with no sessions (`{"username"}` → `{"id", "username"}`), for load tests that
 * need many distinct users; sign them in with `/__dev/sign_in`. Gone on reset. No webhook:
 * the gateway never reads users.
 */
admin.post("/users", async (c) => {
  const { store } = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  const username = body.username;
  if (typeof username !== "string" || !/^[a-z0-9_]{1,64}$/.test(username)) {
    throw Errors.formParamInvalid("username", "username must be 1-64 characters of a-z, 0-9 and _.");
  }
  const existing = [...store.users.values()].find((u) => u.username === username);
  if (existing) return c.json({ id: existing.id, username });
  const now = Date.now();
  const id = randomId("user");
  store.users.set(id, {
    id,
    first_name: username,
    last_name: "Bench",
    username,
    email_address: `${username}@example.com`,
    email_address_id: randomId("idn"),
    created_at: now,
    updated_at: now,
    last_sign_in_at: null,
    last_active_at: null,
  });
  return c.json({ id, username });
});

function parseStatus(value: unknown): SessionStatus {
  if (typeof value !== "string" || !(SESSION_STATUSES as readonly string[]).includes(value)) {
    throw Errors.formParamInvalid("status", `status must be one of ${SESSION_STATUSES.join(", ")}.`);
  }
  return value as SessionStatus;
}

/** Sessions as Clerk holds them, without going through `/v1` (so without a logged call). */
admin.get("/sessions", (c) => {
  const { store } = contextOf(c.req.raw);
  const q = new URL(c.req.url).searchParams;
  const status = q.get("status");
  const sessions = findSessions(store, {
    user_id: q.get("user_id") ?? undefined,
    client_id: q.get("client_id") ?? undefined,
    status: status === null ? undefined : parseStatus(status),
  });
  return c.json({ sessions: sessions.map(sessionJSON) });
});

admin.get("/sessions/:session_id", (c) => {
  const { store } = contextOf(c.req.raw);
  const session = store.sessions.get(c.req.param("session_id"));
  if (!session) throw Errors.resourceNotFound();
  return c.json(sessionJSON(session));
});

/** Changes a session's status as if it happened in Clerk (e.g. the user signed out elsewhere). */
admin.post("/sessions/:session_id/status", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  const status = parseStatus(body.status);
  const session = rc.store.sessions.get(c.req.param("session_id"));
  if (!session) throw Errors.resourceNotFound();
  setSessionStatus(rc, session, status);
  return c.json(sessionJSON(session));
});

function optionalObject(body: JsonObject, name: string): JsonObject | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw Errors.formParamInvalid(name, `${name} must be an object.`);
  return v as JsonObject;
}

admin.post("/sign", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  const claims = optionalObject(body, "claims");
  if (!claims) throw Errors.formParamMissing("claims");
  const header = optionalObject(body, "header") ?? {};
  const signature = body.signature ?? "valid";
  if (signature !== "valid" && signature !== "none" && signature !== "invalid") {
    throw Errors.formParamInvalid("signature", "signature must be valid, none or invalid.");
  }
  return c.json({ jwt: await signRaw(rc.config, header, claims, signature as SignatureMode) });
});

/** Every machine credential with its secret, for tests and the startup banner. */
admin.get("/machine_tokens", (c) => {
  const { store } = contextOf(c.req.raw);
  return c.json({
    api_keys: [...store.apiKeys.values()].map((k) => apiKeyJSON(k, true)),
    machines: [...store.machines.values()].map((m) => ({
      object: "machine",
      id: m.id,
      name: m.name,
      secret_key: m.secret_key,
      scoped_machine_ids: [...m.scoped_machine_ids],
    })),
    m2m_tokens: [...store.m2mTokens.values()].map((t) => m2mTokenJSON(t, true)),
    oauth_access_tokens: [...store.oauthTokens.values()].map((t) => ({ ...oauthTokenJSON(t), token: t.token })),
  });
});

/**
 * Mints an OAuth access token for a user, standing in for Clerk's OAuth flow (authorize →
 * consent → token): `{"user_id", "token_format"?: "opaque"|"jwt", "scopes"?, "client_id"?,
 * "oauth_application_id"?, "audience"?, "expires_in_seconds"?}` → `{"id","token","token_format"}`.
 */
admin.post("/oauth_access_tokens", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  const userId = body.user_id;
  if (typeof userId !== "string") throw Errors.formParamMissing("user_id");
  const user = rc.store.users.get(userId);
  if (!user) throw Errors.resourceNotFound(`No user was found with id ${userId}`);
  const format = body.token_format ?? "opaque";
  if (format !== "opaque" && format !== "jwt")
    throw Errors.formParamInvalid("token_format", "token_format must be opaque or jwt.");
  const scopes = body.scopes ?? ["profile", "email"];
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== "string")) {
    throw Errors.formParamInvalid("scopes", "scopes must be an array of strings.");
  }
  const audience = body.audience;
  const expires = body.expires_in_seconds ?? 86_400;
  if (typeof expires !== "number" || !Number.isInteger(expires)) {
    throw Errors.formParamInvalid("expires_in_seconds", "expires_in_seconds must be an integer.");
  }
  const params = {
    user,
    clientId: typeof body.client_id === "string" ? body.client_id : "seed_oauth_client_dashboard",
    oauthApplicationId:
      typeof body.oauth_application_id === "string" ? body.oauth_application_id : "oa_dashboard000000000000000000000",
    scopes: scopes as string[],
    expiresInSeconds: expires,
    audience: typeof audience === "string" ? [audience] : Array.isArray(audience) ? (audience as string[]) : null,
  };
  if (format === "jwt") {
    const { id, jwt } = await createJwtOAuthToken(rc.config, params);
    return c.json({ id, token: jwt, token_format: "jwt" });
  }
  const record = createOpaqueOAuthToken(rc.store, params);
  return c.json({ id: record.id, token: record.token, token_format: "opaque" });
});

/**
 * A browser holding a client (seeded, BAPI- or dev-created, or FAPI's): `{client_id,
 * client_cookie, dev_browser}`, the `__client` cookie value and a new dev browser
 * (`__clerk_db_jwt`) bound to it, so a test can speak to the Frontend API as that browser.
 */
admin.post("/clients/:client_id/browser", async (c) => {
  const browser = await browserFor(contextOf(c.req.raw), c.req.param("client_id"));
  if (!browser) throw Errors.resourceNotFound("No session lives on that client.");
  return c.json(browser);
});
