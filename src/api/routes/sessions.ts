import { Hono } from "hono";
import type { Principal, UserPrincipal } from "../../auth/principal";
import { forbidden, invalidParam } from "../../core/errors";
import type { AppEnv } from "../../http/app-env";
import { authenticate, authenticateRefresh, resolvePrincipal } from "../../http/auth-middleware";
import { clientIp } from "../../http/rate-limit";
import { withAudit } from "../../http/request-log";
import { validate, validateJson } from "../../http/validation";
import {
  capUserTokenLifetime,
  chargeOwnerForRefresh,
  limitRefreshAttempts,
  limitUserWrites,
  requireRecentFirstFactor,
} from "../rules";
import {
  createBody,
  emptyBody,
  listQuery,
  refreshBody,
  refreshQuery,
  sessionParams,
  templateParams,
  tokenBody,
} from "../schemas";

/**
 * Backend-API style routes, shaped exactly as Clerk's Backend API, so
 * `createClerkClient({ secretKey: <service key>, apiUrl: <gateway> })` works unchanged.
 * Services get Clerk's semantics; users get the same operations on their own sessions.
 */
export const sessions = new Hono<AppEnv>();

const anyone = authenticate({ allow: ["user", "service"] });
const serviceOnly = authenticate({ allow: ["service"] });

const isUser = (principal: Principal): principal is UserPrincipal => principal.kind === "user";

sessions.get("/", validate("query", listQuery), anyone, async (c) => {
  const query = c.req.valid("query");
  const principal = c.var.principal;
  if (isUser(principal)) {
    if (query.user_id !== undefined && query.user_id !== principal.userId) {
      throw forbidden("Users can only list their own sessions");
    }
    query.user_id = principal.userId;
  }
  const limit = query.limit ?? 10;
  const offset = query.offset ?? 0;

  // The question Clerk's SDK asks most ("this user's active sessions") is answered from the cache.
  if (query.user_id && query.status === "active" && query.client_id === undefined) {
    const current = isUser(principal) ? principal.sessionId : undefined;
    const { sessions: active, cache } = await c.var.sessions.activeSessions(query.user_id, current);
    c.var.metrics.cache = cache;
    c.header("X-Cache", cache);
    const data = active.slice(offset, offset + limit);
    return c.json(query.paginated ? { data, total_count: active.length } : data);
  }
  const upstreamQuery = {
    client_id: query.client_id,
    user_id: query.user_id,
    status: query.status,
    limit: query.limit,
    offset: query.offset,
  };
  const clerk = c.var.sessions.clerk;
  return c.json(
    query.paginated ? await clerk.listSessionsPaginated(upstreamQuery) : await clerk.listSessions(upstreamQuery),
  );
});

sessions.post("/", validateJson(createBody), serviceOnly, async (c) => {
  const body = c.req.valid("json");
  const session = await withAudit(c, { action: "session.create", session_id: "(new)" }, () =>
    c.var.sessions.clerk.createSession(body),
  );
  c.var.sessions.invalidateUser(session.user_id);
  return c.json(session);
});

sessions.get("/:session_id", validate("param", sessionParams), anyone, async (c) => {
  const { session_id } = c.req.valid("param");
  const principal = c.var.principal;
  if (isUser(principal)) return c.json(await c.var.sessions.ownedSession(session_id, principal));
  return c.json(await c.var.sessions.clerk.getSession(session_id));
});

/**
 * Refresh is authenticated by the body's `expired_token` (Clerk's contract: the token of
 * the very session being refreshed, expired or not), or by a service key. Anyone who ever
 * held an old token can send it, so such a refresh is charged to its address (attempts per
 * session, and the upstream share) and spends the owner's write allowance only once Clerk has
 * accepted it; its `request_origin`, which becomes the new token's `azp`, must be one of
 * CLERK_AUTHORIZED_PARTIES (the gateway would refuse any other).
 */
sessions.post(
  "/:session_id/refresh",
  validate("param", sessionParams),
  validate("query", refreshQuery),
  validateJson(refreshBody),
  async (c) => {
    const { session_id } = c.req.valid("param");
    const { suffixed_cookies } = c.req.valid("query");
    const body = c.req.valid("json");
    let owner: string | undefined;
    if (c.req.header("Authorization") !== undefined) {
      const principal = await resolvePrincipal(c);
      if (principal.kind !== "service") throw forbidden("Refresh is authenticated by expired_token or a service key");
    } else {
      // Authenticated by the token itself (src/http/auth-middleware.ts); a failure counts against the caller's IP.
      c.set("upstreamCaller", `ip:${clientIp(c)}`);
      owner = (await authenticateRefresh(c, body.expired_token, session_id)).userId;
      if (!c.var.config.authorizedParties.includes(body.request_origin)) {
        throw invalidParam("request_origin", "request_origin must be one of the gateway's authorized parties");
      }
      await limitRefreshAttempts(c, session_id);
    }
    const refreshed = await withAudit(c, { action: "session.refresh", session_id }, () =>
      c.var.sessions.clerk.refreshSession(session_id, body, { suffixed_cookies }),
    );
    if (owner) await chargeOwnerForRefresh(c, owner);
    return c.json(refreshed);
  },
);

sessions.post(
  "/:session_id/revoke",
  validate("param", sessionParams),
  validateJson(emptyBody),
  anyone,
  limitUserWrites(),
  async (c) => {
    const { session_id } = c.req.valid("param");
    const principal = c.var.principal;
    if (isUser(principal)) {
      requireRecentFirstFactor(c, session_id);
      await c.var.sessions.ownedSession(session_id, principal);
    }
    const revoked = await withAudit(c, { action: "session.revoke", session_id }, () =>
      c.var.sessions.revoke(session_id, isUser(principal) ? principal.userId : undefined),
    );
    return c.json(revoked);
  },
);

sessions.post(
  "/:session_id/tokens",
  validate("param", sessionParams),
  validateJson(tokenBody),
  anyone,
  limitUserWrites(),
  async (c) => {
    const { session_id } = c.req.valid("param");
    requireCurrentSession(c.var.principal, session_id);
    const body = c.req.valid("json");
    capUserTokenLifetime(c, body.expires_in_seconds);
    const token = await withAudit(c, { action: "session.token", session_id }, () =>
      c.var.sessions.clerk.createSessionToken(session_id, bodyOrNone(body)),
    );
    return c.json(token);
  },
);

sessions.post(
  "/:session_id/tokens/:template_name",
  validate("param", templateParams),
  validateJson(tokenBody),
  anyone,
  limitUserWrites(),
  async (c) => {
    const { session_id, template_name } = c.req.valid("param");
    const principal = c.var.principal;
    requireCurrentSession(principal, session_id);
    if (isUser(principal) && !c.var.config.templatesAllowed.has(template_name)) {
      throw forbidden(`The JWT template "${template_name}" is not available to users`);
    }
    const body = c.req.valid("json");
    capUserTokenLifetime(c, body.expires_in_seconds);
    const token = await withAudit(c, { action: "session.template_token", session_id, template: template_name }, () =>
      c.var.sessions.clerk.createTemplateToken(session_id, template_name, bodyOrNone(body)),
    );
    return c.json(token);
  },
);

/**
 * Users mint only for the session they are signed in with. The answer is the same
 * whether or not the other session exists, so it reveals nothing.
 */
function requireCurrentSession(principal: Principal, sessionId: string) {
  if (isUser(principal) && principal.sessionId !== sessionId) {
    throw forbidden("Tokens can only be minted for the session making the request");
  }
}

/** Like Clerk's SDK: no body unless there is something to say. */
const bodyOrNone = (body: { expires_in_seconds?: number | null | undefined }) =>
  body.expires_in_seconds === undefined ? undefined : { expires_in_seconds: body.expires_in_seconds };
