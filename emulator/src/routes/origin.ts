/**
 * `/__origin/*`: a stand-in for the app a gateway in proxy mode (ORIGIN_URL) sits in front
 * of, so `npm start` has something to proxy to. It answers with what it received: the
 * identity the gateway asserted (`X-Clerk-User-Id`, `X-Clerk-Session-Id`, `X-Clerk-Org-Id`)
 * and whether the gateway's `X-Gateway-Secret` was there and matched `ORIGIN_SHARED_SECRET`
 * (an emulator var), which is how a real origin tells the gateway's requests from others.
 * Never the secret itself.
 */
import { Hono } from "hono";

type OriginEnv = { Bindings: { ORIGIN_SHARED_SECRET?: string } };

export const origin = new Hono<OriginEnv>();

/** Constant-time comparison, as a real origin should do it. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

origin.all("*", async (c) => {
  const expected = c.env?.ORIGIN_SHARED_SECRET;
  const given = c.req.header("X-Gateway-Secret");
  const secret = !given ? "missing" : !expected ? "not checked" : (await sameSecret(given, expected)) ? "ok" : "wrong";
  if (expected && secret !== "ok") {
    // What a real origin does with a request that did not come through the gateway.
    return c.json({ error: "requests must come through the gateway", gateway_secret: secret }, 403);
  }
  const url = new URL(c.req.url);
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : await c.req.arrayBuffer();
  return c.json({
    origin: "clerk-emulator /__origin",
    method: c.req.method,
    path: url.pathname.replace(/^\/__origin/, "") || "/",
    search: url.search,
    user_id: c.req.header("X-Clerk-User-Id") ?? null,
    session_id: c.req.header("X-Clerk-Session-Id") ?? null,
    org_id: c.req.header("X-Clerk-Org-Id") ?? null,
    gateway_secret: secret,
    body_bytes: body?.byteLength ?? 0,
  });
});
