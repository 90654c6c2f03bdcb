/**
 * Machine credentials: API keys, machines' secret keys, M2M tokens (opaque `mt_…` or JWT) and
 * OAuth access tokens (opaque `oat_…` or JWT), with Clerk's serializations (BAPI 2026-05-12)
 * and the checks its verify endpoints apply. Clerk sends no webhook for any of them (its
 * webhooks spec has no api_key/m2m/oauth event), so nothing here publishes one.
 */
import type { Config } from "./config";
import { Errors } from "./errors";
import { randomHex, randomOpaqueToken } from "./ids";
import type { ApiKeyRecord, M2MTokenRecord, MachineRecord, OAuthTokenRecord, Store, UserRecord } from "./state";
import { signRaw, verifyInstanceSignature } from "./tokens";

/** `cat` of M2M JWTs (@clerk/backend `JWT_CATEGORY_M2M_TOKEN`). */
export const M2M_JWT_CATEGORY = "cl_B7d4PD333AAA";
/** `typ` of OAuth JWT access tokens (RFC 9068). */
export const OAUTH_JWT_TYPE = "at+jwt";
/** Lifetime of an OAuth access token Clerk issues (its OAuth token response says 86400). */
export const OAUTH_TOKEN_LIFETIME_SECONDS = 86_400;
const NBF_SKEW_SECONDS = 5;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const isExpired = (expiration: number | null) => expiration !== null && expiration <= Date.now();

// ── API keys ─────────────────────────────────────────────────────────────────────────────

/** The `api_key` object; `secret` only in the answer to its creation. */
export function apiKeyJSON(k: ApiKeyRecord, withSecret = false): Record<string, unknown> {
  const json: Record<string, unknown> = {
    object: "api_key",
    id: k.id,
    type: k.type,
    subject: k.subject,
    name: k.name,
    description: k.description,
    claims: k.claims,
    scopes: [...k.scopes],
  };
  if (withSecret) json.secret = k.secret;
  Object.assign(json, {
    revoked: k.revoked,
    revocation_reason: k.revocation_reason,
    expired: isExpired(k.expiration),
    expiration: k.expiration,
    created_by: k.created_by,
    last_used_at: k.last_used_at,
    created_at: k.created_at,
    updated_at: k.updated_at,
  });
  return json;
}

export interface NewApiKey {
  type: string;
  subject: string;
  name: string;
  description: string | null;
  claims: unknown;
  scopes: string[];
  created_by: string | null;
  seconds_until_expiration: number | null;
}

export function createApiKey(store: Store, params: NewApiKey): ApiKeyRecord {
  const now = Date.now();
  const key: ApiKeyRecord = {
    id: `ak_${randomHex(16)}`,
    type: params.type,
    subject: params.subject,
    name: params.name,
    description: params.description,
    claims: params.claims,
    scopes: params.scopes,
    secret: `ak_${randomOpaqueToken(40)}`,
    revoked: false,
    revocation_reason: null,
    expiration: params.seconds_until_expiration === null ? null : now + params.seconds_until_expiration * 1000,
    created_by: params.created_by,
    last_used_at: null,
    created_at: now,
    updated_at: now,
  };
  store.apiKeys.set(key.id, key);
  return key;
}

/** `POST /api_keys/verify`: a key that is unknown, revoked or expired is "not found", as Clerk answers. */
export function verifyApiKey(store: Store, secret: string): ApiKeyRecord {
  const key = [...store.apiKeys.values()].find((k) => k.secret === secret);
  if (!key || key.revoked || isExpired(key.expiration)) throw Errors.resourceNotFound("API key not found");
  key.last_used_at = Date.now();
  return key;
}

export function revokeApiKey(key: ApiKeyRecord, reason: string | null): ApiKeyRecord {
  if (!key.revoked) {
    key.revoked = true;
    key.revocation_reason = reason;
    key.updated_at = Date.now();
  }
  return key;
}

// ── Machines and M2M tokens ──────────────────────────────────────────────────────────────

export function machineBySecretKey(store: Store, secretKey: string): MachineRecord | undefined {
  return [...store.machines.values()].find((m) => m.secret_key === secretKey);
}

/** The `machine_to_machine_token` object; `token` only in the answer to its creation. */
export function m2mTokenJSON(t: M2MTokenRecord, withToken = false): Record<string, unknown> {
  const json: Record<string, unknown> = {
    object: "machine_to_machine_token",
    id: t.id,
    subject: t.subject,
    claims: t.claims,
    scopes: [...t.scopes],
  };
  if (withToken) json.token = t.token;
  Object.assign(json, {
    revoked: t.revoked,
    revocation_reason: t.revocation_reason,
    expired: isExpired(t.expiration),
    expiration: t.expiration,
    last_used_at: t.last_used_at,
    created_at: t.created_at,
    updated_at: t.updated_at,
  });
  return json;
}

export interface NewM2MToken {
  secondsUntilExpiration: number | null;
  claims: unknown;
  minRemainingTtlSeconds: number | null;
}

/** An opaque M2M token for `machine`, or an existing one when `min_remaining_ttl_seconds` allows its reuse. */
export function createOpaqueM2MToken(store: Store, machine: MachineRecord, params: NewM2MToken): M2MTokenRecord {
  const now = Date.now();
  const lifetime = params.secondsUntilExpiration ?? machine.default_token_ttl;
  if (params.minRemainingTtlSeconds !== null) {
    if (params.minRemainingTtlSeconds >= lifetime) {
      throw Errors.badRequest("min_remaining_ttl_seconds must be less than the token's lifetime.");
    }
    const min = params.minRemainingTtlSeconds;
    const reusable = [...store.m2mTokens.values()].find(
      (t) =>
        t.subject === machine.id &&
        !t.revoked &&
        t.expiration !== null &&
        t.expiration - now >= min * 1000 &&
        JSON.stringify(t.claims) === JSON.stringify(params.claims) &&
        JSON.stringify(t.scopes) === JSON.stringify(machine.scoped_machine_ids),
    );
    if (reusable) return reusable;
  }
  const token: M2MTokenRecord = {
    id: `mt_${randomHex(16)}`,
    subject: machine.id,
    token: `mt_${randomOpaqueToken(40)}`,
    claims: params.claims,
    scopes: [...machine.scoped_machine_ids],
    revoked: false,
    revocation_reason: null,
    expiration: now + lifetime * 1000,
    last_used_at: null,
    created_at: now,
    updated_at: now,
  };
  store.m2mTokens.set(token.id, token);
  return token;
}

/**
 * A JWT-format M2M token: RS256 with the instance key, header `cat: cl_B7d4PD333AAA`, claims
 * `iss, sub: mch_…, aud`/`scopes` (the machines it may call), `jti: mt_…`, `iat, nbf, exp` and
 * the custom claims. Stateless, as Clerk's: never stored, cannot be revoked. Returned in the
 * `machine_to_machine_token` shape with `token` = the JWT.
 */
export async function createJwtM2MToken(
  config: Config,
  machine: MachineRecord,
  params: NewM2MToken,
): Promise<Record<string, unknown>> {
  const iat = nowSeconds();
  const lifetime = params.secondsUntilExpiration ?? machine.default_token_ttl;
  const id = `mt_${randomHex(16)}`;
  const custom = params.claims !== null && typeof params.claims === "object" ? (params.claims as object) : {};
  const claims = {
    ...custom,
    aud: [...machine.scoped_machine_ids],
    exp: iat + lifetime,
    iat,
    iss: config.issuer,
    jti: id,
    nbf: iat - NBF_SKEW_SECONDS,
    scopes: machine.scoped_machine_ids.join(" "),
    sub: machine.id,
  };
  const jwt = await signRaw(config, { cat: M2M_JWT_CATEGORY }, claims);
  const created = iat * 1000;
  return {
    object: "machine_to_machine_token",
    id,
    subject: machine.id,
    claims: params.claims,
    scopes: [...machine.scoped_machine_ids],
    token: jwt,
    revoked: false,
    revocation_reason: null,
    expired: false,
    expiration: (iat + lifetime) * 1000,
    last_used_at: null,
    created_at: created,
    updated_at: created,
  };
}

/**
 * `POST /m2m_tokens/verify`. Called with a machine secret key, the token must grant access to
 * that machine (be in its scopes) or be its own; with the instance secret key any token
 * verifies. Unknown, revoked, expired or out-of-scope tokens are "not found".
 */
export async function verifyM2MToken(
  store: Store,
  config: Config,
  token: string,
  caller: MachineRecord | null,
): Promise<Record<string, unknown>> {
  const notFound = () => Errors.resourceNotFound("Machine token not found");
  const allowed = (subject: string, scopes: string[]) =>
    caller === null || caller.id === subject || scopes.includes(caller.id);
  if (token.startsWith("mt_")) {
    const record = [...store.m2mTokens.values()].find((t) => t.token === token);
    if (!record || record.revoked || isExpired(record.expiration) || !allowed(record.subject, record.scopes)) {
      throw notFound();
    }
    record.last_used_at = Date.now();
    return m2mTokenJSON(record);
  }
  const claims = await verifyInstanceSignature(config, token);
  if (!claims || typeof claims.sub !== "string" || !claims.sub.startsWith("mch_")) throw notFound();
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : 0;
  const scopes = typeof claims.scopes === "string" && claims.scopes !== "" ? claims.scopes.split(" ") : [];
  if (exp <= Date.now() || claims.iss !== config.issuer || !allowed(claims.sub, scopes)) throw notFound();
  const reserved = new Set(["aud", "exp", "iat", "iss", "jti", "nbf", "scopes", "sub"]);
  const custom = Object.fromEntries(Object.entries(claims).filter(([k]) => !reserved.has(k)));
  const iat = typeof claims.iat === "number" ? claims.iat * 1000 : exp;
  return {
    object: "machine_to_machine_token",
    id: String(claims.jti ?? ""),
    subject: claims.sub,
    claims: Object.keys(custom).length > 0 ? custom : null,
    scopes,
    revoked: false,
    revocation_reason: null,
    expired: false,
    expiration: exp,
    last_used_at: null,
    created_at: iat,
    updated_at: iat,
  };
}

export function revokeM2MToken(token: M2MTokenRecord, reason: string | null): M2MTokenRecord {
  if (!token.revoked) {
    token.revoked = true;
    token.revocation_reason = reason;
    token.updated_at = Date.now();
  }
  return token;
}

// ── OAuth access tokens (Clerk as identity provider) ─────────────────────────────────────

/** The `clerk_idp_oauth_access_token` object `POST /oauth_applications/access_tokens/verify` answers. */
export function oauthTokenJSON(t: OAuthTokenRecord): Record<string, unknown> {
  return {
    object: "clerk_idp_oauth_access_token",
    id: t.id,
    client_id: t.client_id,
    subject: t.subject,
    scopes: [...t.scopes],
    revoked: t.revoked,
    revocation_reason: t.revocation_reason,
    expired: isExpired(t.expiration),
    expiration: t.expiration,
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

export interface NewOAuthToken {
  user: UserRecord;
  clientId: string;
  oauthApplicationId: string;
  scopes: string[];
  expiresInSeconds: number;
  audience: string[] | null;
}

/** What the OAuth flow would have issued: an opaque `oat_…` token, stored and revocable. */
export function createOpaqueOAuthToken(store: Store, params: NewOAuthToken): OAuthTokenRecord {
  const now = Date.now();
  const token: OAuthTokenRecord = {
    id: `oat_${randomHex(16)}`,
    token: `oat_${randomOpaqueToken(40)}`,
    client_id: params.clientId,
    oauth_application_id: params.oauthApplicationId,
    subject: params.user.id,
    scopes: params.scopes,
    revoked: false,
    revocation_reason: null,
    expiration: now + params.expiresInSeconds * 1000,
    created_at: now,
    updated_at: now,
  };
  store.oauthTokens.set(token.id, token);
  return token;
}

/**
 * A JWT access token (RFC 9068): header `typ: at+jwt`, claims `iss, sub: user_…, client_id,
 * scope` (space-separated), `jti: oat_…`, `iat, nbf, exp`, and `aud` when an audience is given.
 */
export async function createJwtOAuthToken(config: Config, params: NewOAuthToken): Promise<{ id: string; jwt: string }> {
  const iat = nowSeconds();
  const id = `oat_${randomHex(16)}`;
  const claims: Record<string, unknown> = {};
  if (params.audience) claims.aud = params.audience.length === 1 ? params.audience[0] : params.audience;
  Object.assign(claims, {
    client_id: params.clientId,
    exp: iat + params.expiresInSeconds,
    iat,
    iss: config.issuer,
    jti: id,
    nbf: iat - NBF_SKEW_SECONDS,
    scope: params.scopes.join(" "),
    sub: params.user.id,
  });
  return { id, jwt: await signRaw(config, { typ: OAUTH_JWT_TYPE }, claims) };
}

/**
 * `POST /oauth_applications/access_tokens/verify`: an opaque token answers its object (404 when
 * unknown or revoked); a JWT signed by the instance answers the object built from its claims,
 * or `{active: false}` once expired, as Clerk's spec documents.
 */
export async function verifyOAuthToken(
  store: Store,
  config: Config,
  accessToken: string,
): Promise<Record<string, unknown>> {
  const notFound = () => Errors.resourceNotFound("OAuth token not found");
  if (accessToken.startsWith("oat_")) {
    const record = [...store.oauthTokens.values()].find((t) => t.token === accessToken);
    if (!record || record.revoked || isExpired(record.expiration)) throw notFound();
    return oauthTokenJSON(record);
  }
  const claims = await verifyInstanceSignature(config, accessToken);
  if (!claims || claims.iss !== config.issuer || typeof claims.sub !== "string") throw notFound();
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : 0;
  if (exp <= Date.now()) return { active: false };
  const iat = typeof claims.iat === "number" ? claims.iat * 1000 : exp;
  const scopes = typeof claims.scope === "string" && claims.scope !== "" ? claims.scope.split(" ") : [];
  return {
    object: "clerk_idp_oauth_access_token",
    id: String(claims.jti ?? ""),
    client_id: String(claims.client_id ?? ""),
    subject: claims.sub,
    scopes,
    revoked: false,
    revocation_reason: null,
    expired: false,
    expiration: exp,
    created_at: iat,
    updated_at: iat,
  };
}

/** `POST /oauth_applications/{id}/revoke_token`: revokes an opaque token of that application. */
export function revokeOAuthToken(store: Store, oauthApplicationId: string, token: string): void {
  if (!token.startsWith("oat_")) throw Errors.badRequest("JWT access tokens cannot be revoked.");
  const record = [...store.oauthTokens.values()].find(
    (t) => t.token === token && t.oauth_application_id === oauthApplicationId,
  );
  if (!record) throw Errors.resourceNotFound("OAuth token not found");
  if (!record.revoked) {
    record.revoked = true;
    record.revocation_reason = "Revoked by the OAuth application";
    record.updated_at = Date.now();
  }
}
