/**
 * Backend API routes for machine credentials: API keys, M2M tokens, OAuth access tokens and
 * machines' secret keys. Mounted twice, at `/v1` (Clerk's spec) and at the API root, where
 * @clerk/backend 3.x sends them (`skipApiVersionInUrl`: `POST {apiUrl}/api_keys/verify`, …).
 * The pipeline in index.ts has logged the call and checked the key; for `/m2m_tokens` it also
 * accepts a machine secret key, and `machineOf` says which machine presented it.
 */
import { Hono } from "hono";
import { contextOf, type RequestContext } from "../context";
import { ClerkApiError, Errors } from "../errors";
import {
  apiKeyJSON,
  createApiKey,
  createJwtM2MToken,
  createOpaqueM2MToken,
  m2mTokenJSON,
  revokeApiKey,
  revokeM2MToken,
  revokeOAuthToken,
  verifyApiKey,
  verifyM2MToken,
  verifyOAuthToken,
} from "../machines";
import { type JsonObject, readJsonObject } from "../params";
import type { MachineRecord } from "../state";

export const machine = new Hono();

/**
 * Clerk's machine-auth endpoints answer a malformed body with a 400 `bad_request` naming the
 * field the way their spec's example does (`Invalid 'body.name': …`).
 */
function invalid(param: string, reason: string): ClerkApiError {
  return new ClerkApiError(400, [
    {
      code: "bad_request",
      message: "Bad Request",
      long_message: `Invalid 'body.${param}': ${reason}`,
      meta: { param_name: param },
    },
  ]);
}

function allowOnly(body: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw invalid(key, "Unknown field");
}

function str(body: JsonObject, name: string, opts: { required?: boolean; pattern?: RegExp; min?: number } = {}) {
  const v = body[name];
  if (v === undefined || v === null) {
    if (opts.required) throw invalid(name, "Required");
    return null;
  }
  if (typeof v !== "string") throw invalid(name, "Expected string");
  if (opts.min !== undefined && v.length < opts.min) throw invalid(name, `Must be at least ${opts.min} characters`);
  if (opts.pattern && !opts.pattern.test(v)) throw invalid(name, "Failed regex check");
  return v;
}

function positiveNumber(body: JsonObject, name: string, integer = false): number | null {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || (integer ? !Number.isInteger(v) || v < 0 : v <= 0)) {
    throw invalid(name, integer ? "Expected a non-negative integer" : "Expected a number greater than 0");
  }
  return v;
}

function stringArray(body: JsonObject, name: string): string[] {
  const v = body[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw invalid(name, "Expected an array of strings");
  return [...(v as string[])];
}

/** The machine whose secret key authenticated the request, or null for the instance secret key. */
function machineOf(rc: RequestContext): MachineRecord | null {
  return rc.machineId ? (rc.store.machines.get(rc.machineId) ?? null) : null;
}

// ── API keys ─────────────────────────────────────────────────────────────────────────────

const API_KEY_SUBJECT = /^(user|org|mch|scim)_\w{27}$/;

machine.post("/api_keys/verify", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  allowOnly(body, ["secret"]);
  const secret = str(body, "secret", { required: true }) as string;
  return c.json(apiKeyJSON(verifyApiKey(rc.store, secret)));
});

machine.post("/api_keys", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  allowOnly(body, [
    "type",
    "name",
    "description",
    "subject",
    "claims",
    "scopes",
    "created_by",
    "seconds_until_expiration",
  ]);
  const name = str(body, "name", { required: true, min: 3, pattern: /^(\S(.*\S)?)?$/ }) as string;
  const subject = str(body, "subject", { required: true, pattern: API_KEY_SUBJECT }) as string;
  const type = str(body, "type", { min: 3 }) ?? "api_key";
  const description = str(body, "description");
  if (description !== null && description.length > 255) throw invalid("description", "Must be at most 255 characters");
  const createdBy = str(body, "created_by", { pattern: /^user_\w{27}$/ });
  if (subject.startsWith("user_") && !rc.store.users.has(subject)) {
    throw Errors.resourceNotFound(`No user was found with id ${subject}`);
  }
  const key = createApiKey(rc.store, {
    type,
    subject,
    name,
    description,
    claims: body.claims ?? null,
    scopes: stringArray(body, "scopes"),
    created_by: createdBy,
    seconds_until_expiration: positiveNumber(body, "seconds_until_expiration"),
  });
  // The only answer that carries the secret.
  return c.json(apiKeyJSON(key, true));
});

machine.get("/api_keys", (c) => {
  const { store } = contextOf(c.req.raw);
  const q = new URL(c.req.url).searchParams;
  const subject = q.get("subject");
  if (subject === null) throw invalid("subject", "Required");
  if (!API_KEY_SUBJECT.test(subject)) throw invalid("subject", "Failed regex check");
  const type = q.get("type") ?? "api_key";
  const includeInvalid = q.get("include_invalid") === "true";
  const limit = Number(q.get("limit") ?? "10");
  const offset = Number(q.get("offset") ?? "0");
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid("limit", "Must be between 1 and 100");
  if (!Number.isInteger(offset) || offset < 0) throw invalid("offset", "Must be 0 or more");
  const search = q.get("query")?.toLowerCase();
  const all = [...store.apiKeys.values()]
    .filter(
      (k) =>
        k.subject === subject &&
        k.type === type &&
        (includeInvalid || (!k.revoked && !(k.expiration !== null && k.expiration <= Date.now()))) &&
        (search === undefined || k.name.toLowerCase().includes(search)),
    )
    .sort((a, b) => b.created_at - a.created_at);
  return c.json({ data: all.slice(offset, offset + limit).map((k) => apiKeyJSON(k)), total_count: all.length });
});

function apiKeyById(rc: RequestContext, id: string) {
  const key = rc.store.apiKeys.get(id);
  if (!key) throw Errors.resourceNotFound("API key not found");
  return key;
}

machine.get("/api_keys/:id", (c) => c.json(apiKeyJSON(apiKeyById(contextOf(c.req.raw), c.req.param("id")))));

machine.post("/api_keys/:id/revoke", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  allowOnly(body, ["revocation_reason"]);
  const key = apiKeyById(rc, c.req.param("id"));
  return c.json(apiKeyJSON(revokeApiKey(key, str(body, "revocation_reason"))));
});

// ── M2M tokens ───────────────────────────────────────────────────────────────────────────

machine.post("/m2m_tokens/verify", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  allowOnly(body, ["token"]);
  const token = str(body, "token", { required: true }) as string;
  return c.json(await verifyM2MToken(rc.store, rc.config, token, machineOf(rc)));
});

machine.post("/m2m_tokens", async (c) => {
  const rc = contextOf(c.req.raw);
  const caller = machineOf(rc);
  if (!caller) {
    throw Errors.authenticationInvalid(
      "Creating an M2M token requires a Machine Secret Key, not the instance's Secret Key.",
    );
  }
  const body = await readJsonObject(c.req.raw);
  allowOnly(body, ["token_format", "seconds_until_expiration", "claims", "min_remaining_ttl_seconds"]);
  const format = body.token_format ?? "opaque";
  if (format !== "opaque" && format !== "jwt") throw invalid("token_format", "Expected 'opaque' | 'jwt'");
  const params = {
    secondsUntilExpiration: positiveNumber(body, "seconds_until_expiration"),
    claims: body.claims ?? null,
    minRemainingTtlSeconds: positiveNumber(body, "min_remaining_ttl_seconds", true),
  };
  if (format === "jwt") return c.json(await createJwtM2MToken(rc.config, caller, params), 201);
  return c.json(m2mTokenJSON(createOpaqueM2MToken(rc.store, caller, params), true), 201);
});

machine.get("/m2m_tokens", (c) => {
  const rc = contextOf(c.req.raw);
  const q = new URL(c.req.url).searchParams;
  const subject = q.get("subject");
  if (subject === null) throw invalid("subject", "Required");
  const caller = machineOf(rc);
  // A machine secret key lists only its own machine's tokens.
  if (caller && caller.id !== subject) throw Errors.resourceNotFound("Machine not found");
  const revoked = q.get("revoked") === "true";
  const expired = q.get("expired") === "true";
  const limit = Number(q.get("limit") ?? "10");
  const offset = Number(q.get("offset") ?? "0");
  const now = Date.now();
  const all = [...rc.store.m2mTokens.values()]
    .filter((t) => {
      const isExpired = t.expiration !== null && t.expiration <= now;
      return t.subject === subject && (revoked || !t.revoked) && (expired || !isExpired);
    })
    .sort((a, b) => b.created_at - a.created_at);
  return c.json({ m2m_tokens: all.slice(offset, offset + limit).map((t) => m2mTokenJSON(t)), total_count: all.length });
});

machine.post("/m2m_tokens/:id/revoke", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  allowOnly(body, ["revocation_reason"]);
  const token = rc.store.m2mTokens.get(c.req.param("id"));
  const caller = machineOf(rc);
  // With a machine secret key, only the machine's own tokens can be revoked.
  if (!token || (caller && token.subject !== caller.id)) throw Errors.resourceNotFound("Machine token not found");
  return c.json(m2mTokenJSON(revokeM2MToken(token, str(body, "revocation_reason"))));
});

// ── OAuth access tokens ──────────────────────────────────────────────────────────────────

machine.post("/oauth_applications/access_tokens/verify", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  allowOnly(body, ["access_token", "secret"]);
  // `secret` is the deprecated name of `access_token`.
  const token = str(body, "access_token") ?? str(body, "secret");
  if (token === null) throw invalid("access_token", "Required");
  return c.json(await verifyOAuthToken(rc.store, rc.config, token));
});

machine.post("/oauth_applications/:oauth_application_id/revoke_token", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  for (const key of Object.keys(body)) if (key !== "token") throw Errors.formParamUnknown(key);
  const token = body.token;
  if (typeof token !== "string" || token === "") throw Errors.formParamMissing("token");
  revokeOAuthToken(rc.store, c.req.param("oauth_application_id"), token);
  return c.body(null, 204);
});

// ── Machines ─────────────────────────────────────────────────────────────────────────────

machine.get("/machines/:machine_id/secret_key", (c) => {
  const rc = contextOf(c.req.raw);
  const found = rc.store.machines.get(c.req.param("machine_id"));
  if (!found) throw Errors.resourceNotFound("Machine not found");
  return c.json({ object: "machine_secret_key", secret: found.secret_key });
});
