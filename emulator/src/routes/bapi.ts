/**
 * Clerk's Backend API (`/v1/*`), limited to what the gateway uses, with Clerk's shapes and
 * error codes. The pipeline in index.ts has already logged the call, applied latency and
 * faults, and checked the secret key before a request reaches these routes.
 */
import { Hono } from "hono";
import { contextOf } from "../context";
import { Errors } from "../errors";
import { takeHandshakePayload } from "../handshake";
import {
  expiresInSeconds,
  optionalString,
  queryBoolean,
  queryInteger,
  readJsonObject,
  rejectUnknown,
  requiredString,
} from "../params";
import { canIssueTokens, createSession, findSessions, revokeSession, sessionJSON, touchSession } from "../sessions";
import { jwks, signSessionToken, signTemplateToken, verifyInstanceSignature } from "../tokens";
import { SESSION_LIST_STATUSES, type SessionStatus, type TokenJSON } from "../types";
import { deviceFromUserAgent } from "../ua";
import { userJSON } from "../users";

export const bapi = new Hono();

bapi.get("/jwks", async (c) => c.json(await jwks(contextOf(c.req.raw).config)));

bapi.get("/sessions", (c) => {
  const { store } = contextOf(c.req.raw);
  const q = new URL(c.req.url).searchParams;
  const status = q.get("status");
  if (status !== null && !(SESSION_LIST_STATUSES as readonly string[]).includes(status)) {
    throw Errors.formParamInvalid("status", `status must be one of ${SESSION_LIST_STATUSES.join(", ")}.`);
  }
  const limit = queryInteger(q, "limit", 10, 1, 500);
  const offset = queryInteger(q, "offset", 0, 0);
  const paginated = queryBoolean(q, "paginated") ?? false;
  // Neither client_id nor user_id is deprecated in Clerk but still answered: all sessions.
  const all = findSessions(store, {
    user_id: q.get("user_id") ?? undefined,
    client_id: q.get("client_id") ?? undefined,
    status: (status ?? undefined) as SessionStatus | undefined,
  });
  const data = all.slice(offset, offset + limit).map(sessionJSON);
  // The SDKs always send paginated=true and read {data,total_count}; the spec documents the bare array.
  return paginated ? c.json({ data, total_count: all.length }) : c.json(data);
});

bapi.post("/sessions", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  const userId = requiredString(body, "user_id");
  const organizationId = optionalString(body, "active_organization_id");
  const user = rc.store.users.get(userId);
  if (!user) throw Errors.resourceNotFound(`No user was found with id ${userId}`);
  // The "device" of a backend-created session is the backend that asked for it.
  const device = { ...deviceFromUserAgent(rc.userAgent), ip_address: rc.clientIp };
  const session = createSession(rc, user, { device, azp: rc.config.defaultAzp, activeOrganizationId: organizationId });
  return c.json(sessionJSON(session));
});

bapi.get("/sessions/:session_id", (c) => {
  const { store } = contextOf(c.req.raw);
  const session = store.sessions.get(c.req.param("session_id"));
  if (!session) throw Errors.resourceNotFound();
  return c.json(sessionJSON(session));
});

const REFRESH_PARAMS = [
  "expired_token",
  "refresh_token",
  "request_origin",
  "request_headers",
  "format",
  "request_originating_ip",
] as const;

bapi.post("/sessions/:session_id/refresh", async (c) => {
  const rc = contextOf(c.req.raw);
  const id = c.req.param("session_id");
  const body = await readJsonObject(c.req.raw);
  rejectUnknown(body, REFRESH_PARAMS);
  const expiredToken = requiredString(body, "expired_token");
  const refreshToken = requiredString(body, "refresh_token");
  const requestOrigin = requiredString(body, "request_origin");
  const headers = body.request_headers;
  if (headers !== undefined && headers !== null && (typeof headers !== "object" || Array.isArray(headers))) {
    throw Errors.formParamInvalid("request_headers", "request_headers must be an object.");
  }
  const format = body.format ?? "token";
  if (format !== "token" && format !== "cookie") {
    throw Errors.formParamInvalid("format", "format must be token or cookie.");
  }
  optionalString(body, "request_originating_ip");

  const session = rc.store.sessions.get(id);
  if (!session) throw Errors.resourceNotFound();
  // Clerk answers every validation failure with 401, which sends the SDKs to the handshake flow.
  const claims = await verifyInstanceSignature(rc.config, expiredToken);
  if (!claims) throw Errors.authenticationInvalid("The expired_token is not a token signed by this instance.");
  if (claims.sid !== id || claims.sub !== session.user_id || claims.iss !== rc.config.issuer) {
    throw Errors.authenticationInvalid("The expired_token does not belong to this session.");
  }
  if (session.status !== "active") throw Errors.authenticationInvalid(`The session is ${session.status}.`);
  if (refreshToken !== session.refresh_token) throw Errors.authenticationInvalid("The refresh_token is invalid.");

  touchSession(session);
  const jwt = await signSessionToken(rc.config, session, { azp: requestOrigin });
  if (format === "cookie") {
    return c.json({ object: "cookies", cookies: [`__session=${jwt}; Path=/; Secure; SameSite=Lax`] });
  }
  return c.json({ object: "token", jwt } satisfies TokenJSON);
});

bapi.post("/sessions/:session_id/revoke", (c) => {
  const rc = contextOf(c.req.raw);
  const session = rc.store.sessions.get(c.req.param("session_id"));
  if (!session) throw Errors.resourceNotFound();
  return c.json(sessionJSON(revokeSession(rc, session)));
});

bapi.post("/sessions/:session_id/tokens", async (c) => {
  const rc = contextOf(c.req.raw);
  const expiresIn = expiresInSeconds(await readJsonObject(c.req.raw));
  const session = rc.store.sessions.get(c.req.param("session_id"));
  if (!session) throw Errors.resourceNotFound();
  if (!canIssueTokens(session)) throw Errors.sessionNotActive(session.id, session.status);
  const jwt = await signSessionToken(rc.config, session, { azp: session.azp, expiresInSeconds: expiresIn });
  return c.json({ object: "token", jwt } satisfies TokenJSON);
});

bapi.post("/sessions/:session_id/tokens/:template_name", async (c) => {
  const rc = contextOf(c.req.raw);
  const expiresIn = expiresInSeconds(await readJsonObject(c.req.raw));
  const session = rc.store.sessions.get(c.req.param("session_id"));
  if (!session) throw Errors.resourceNotFound();
  const templateName = c.req.param("template_name");
  const template = rc.store.templates.get(templateName);
  if (!template) throw Errors.resourceNotFound(`No JWT template exists with name: ${templateName}`);
  if (!canIssueTokens(session)) throw Errors.sessionNotActive(session.id, session.status);
  const user = rc.store.users.get(session.user_id);
  if (!user) throw Errors.resourceNotFound();
  const jwt = await signTemplateToken(rc.config, session, user, template, expiresIn);
  return c.json({ object: "token", jwt } satisfies TokenJSON);
});

bapi.get("/users/:user_id", (c) => {
  const { store } = contextOf(c.req.raw);
  const user = store.users.get(c.req.param("user_id"));
  if (!user) throw Errors.resourceNotFound();
  return c.json(userJSON(user));
});

/**
 * `GET /v1/clients/handshake_payload?nonce=`: the Set-Cookie directives a handshake redirect's
 * `__clerk_handshake_nonce` stands for, once (@clerk/backend `clients.getHandshakePayload`).
 */
bapi.get("/clients/handshake_payload", (c) => {
  const rc = contextOf(c.req.raw);
  const nonce = new URL(c.req.url).searchParams.get("nonce");
  if (!nonce) throw Errors.formParamMissing("nonce");
  const directives = takeHandshakePayload(rc, nonce);
  if (!directives) throw Errors.resourceNotFound("Handshake payload not found");
  return c.json({ directives });
});
