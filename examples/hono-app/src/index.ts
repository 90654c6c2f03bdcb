import { clerkMiddleware, getAuth, requireAuth, sessionGateway } from "clerk-session-gateway/hono";
import openapi from "clerk-session-gateway/openapi";
import { Hono } from "hono";

/**
 * The per-user revocation authority and the revocation log, hosted by this Worker (wrangler.toml
 * binds them as AUTH_DIRECTORY and AUTH_REVOCATION_LOG): the runtime finds a Durable Object class
 * among the entry's exports.
 */
export { RevocationLog, SessionDirectory } from "clerk-session-gateway";

/**
 * An app's own API Worker. Its routes under /api are for signed-in users only, checked by the
 * gateway's middleware: the gateway's token policy, and a session revoked through the gateway
 * (mounted below at /clerk) or by Clerk's webhook is refused on the very next request here, and
 * within 1 s plus one round trip to the user's SessionDirectory object in every other isolate.
 *
 * This app keeps the gateway's state under its own binding names (wrangler.toml); a Worker that
 * used the gateway's names (SESSION_CACHE, RL_AUTH_FAILURES, …) would pass no options at all.
 */
const gateway = {
  bindings: {
    SESSION_CACHE: "AUTH_KV",
    SESSION_DIRECTORY: "AUTH_DIRECTORY",
    REVOCATION_LOG: "AUTH_REVOCATION_LOG",
    RL_AUTH_FAILURES: "AUTH_FAILURE_LIMIT",
    RL_USER_WRITES: "USER_WRITE_LIMIT",
    RL_UPSTREAM_DEVELOPMENT: "CLERK_DEV_LIMIT",
    RL_UPSTREAM_PRODUCTION: "CLERK_PROD_LIMIT",
  },
} as const;

const app = new Hono();

app.get("/", (c) => c.json({ service: "hono-api-example", api: "/api/me", gateway: "/clerk/openapi.json" }));

app.use("/api/*", clerkMiddleware(gateway), requireAuth());

app.get("/api/me", (c) => {
  const { userId, sessionId, orgId, orgRole, orgSlug, orgPermissions } = getAuth(c);
  return c.json({
    userId,
    sessionId,
    orgId: orgId ?? null,
    orgRole: orgRole ?? null,
    orgSlug: orgSlug ?? null,
    orgPermissions: orgPermissions ?? null,
  });
});

/** A resource scoped to its owner: the kind of route a stolen token is used against. */
app.get("/api/notes", (c) => {
  const { userId } = getAuth(c);
  return c.json({ owner: userId, notes: [{ id: 1, text: "Only the signed-in owner reads this." }] });
});

app.route("/clerk", sessionGateway({ ...gateway, openapi }));

export default app;
