import { Hono } from "hono";
import type * as z from "zod/mini";
import { type UserPrincipal, userOf } from "../../auth/principal";
import { toActiveSession, toFapiSession } from "../../clerk/fapi";
import { unauthenticated } from "../../core/errors";
import type { AppEnv } from "../../http/app-env";
import { authenticate } from "../../http/auth-middleware";
import { withAudit } from "../../http/request-log";
import { validate } from "../../http/validation";
import { limitUserWrites, requireRecentFirstFactor } from "../rules";
import { meQuery, sessionParams } from "../schemas";

/**
 * Frontend-API style routes for browsers: a signed-in user's own sessions, shaped as
 * Clerk's FAPI returns them (bare arrays; `{ response, client }` for the revoke).
 */
export const me = new Hono<AppEnv>();

const user = authenticate({ allow: ["user"] });

/** clerk-js adds `_clerk_session_id` to every /me call; when present it must name the token's session. */
function checkSessionParam(principal: UserPrincipal, query: z.infer<typeof meQuery>) {
  if (query._clerk_session_id !== undefined && query._clerk_session_id !== principal.sessionId) {
    throw unauthenticated("_clerk_session_id does not match the session of the token");
  }
}

me.get("/sessions/active", validate("query", meQuery), user, async (c) => {
  const principal = userOf(c);
  checkSessionParam(principal, c.req.valid("query"));
  const { sessions, cache } = await c.var.sessions.activeSessions(principal.userId, principal.sessionId);
  c.var.metrics.cache = cache;
  c.header("X-Cache", cache);
  return c.json(sessions.map(toActiveSession));
});

me.get("/sessions", validate("query", meQuery), user, async (c) => {
  const principal = userOf(c);
  checkSessionParam(principal, c.req.valid("query"));
  const page = await c.var.sessions.clerk.listSessionsPaginated({ user_id: principal.userId, limit: 500 });
  const current = { sessionId: principal.sessionId, ...(principal.claims.fva ? { fva: principal.claims.fva } : {}) };
  return c.json(page.data.map((session) => toFapiSession(session, current)));
});

me.post(
  "/sessions/:session_id/revoke",
  validate("param", sessionParams),
  validate("query", meQuery),
  user,
  limitUserWrites(),
  async (c) => {
    const principal = userOf(c);
    checkSessionParam(principal, c.req.valid("query"));
    const { session_id } = c.req.valid("param");
    requireRecentFirstFactor(c, session_id);
    await c.var.sessions.ownedSession(session_id, principal);
    const revoked = await withAudit(c, { action: "session.revoke", session_id }, () =>
      c.var.sessions.revoke(session_id, principal.userId),
    );
    const current = { sessionId: principal.sessionId, ...(principal.claims.fva ? { fva: principal.claims.fva } : {}) };
    return c.json({ response: toFapiSession(revoked, current), client: null });
  },
);
