/**
 * The floors `npm run bench` measures the gateway against, in the same Miniflare run: what
 * a Worker costs here before it does anything of the gateway's. One route each:
 *
 * - GET /constant: returns a constant JSON (the runtime's floor).
 * - GET /kv: exactly one KV read per request, of the key the gateway's cached read reads for
 *   the caller (`sessions:v1:{sub}`, the gateway's own namespace, so the same keys and values).
 *   The token is only decoded to name the key, never verified: the read is the cost measured.
 * - GET /do: exactly one Durable Object call per request: an RPC to the caller's SQLite-backed
 *   object (one per user, `idFromName(sub)`), which runs one indexed SELECT for the session.
 *
 * Plain JavaScript, no build: nothing here but what each floor names.
 */
import { DurableObject } from "cloudflare:workers";

export class FloorObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, revoked_at INTEGER)");
  }

  revokedAt(sessionId) {
    const row = this.ctx.storage.sql.exec("SELECT revoked_at FROM sessions WHERE id = ?", sessionId).toArray()[0];
    return row ? row.revoked_at : null;
  }
}

/** The token's payload, unverified: only to name the caller's key or object. */
function claims(request) {
  const token = request.headers.get("authorization")?.slice("Bearer ".length) ?? "";
  const part = token.split(".")[1] ?? "";
  try {
    return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return null;
  }
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/constant") return Response.json({ status: "ok" });
    if (path !== "/kv" && path !== "/do") return new Response("not found", { status: 404 });
    const c = claims(request);
    if (!c?.sub || !c?.sid) return new Response("no token", { status: 401 });
    if (path === "/kv") {
      const value = await env.KV.get(`sessions:v1:${c.sub}`, { type: "text", cacheTtl: 30 });
      return new Response(value ?? "null", { headers: { "content-type": "application/json" } });
    }
    const revokedAt = await env.FLOOR.get(env.FLOOR.idFromName(c.sub)).revokedAt(c.sid);
    return Response.json({ revoked_at: revokedAt });
  },
};
