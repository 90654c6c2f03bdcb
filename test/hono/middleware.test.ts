import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { RATE_LIMITS } from "../../src/config/rate-limits";
import { clerkMiddleware, getAuth, requireAuth } from "../../src/hono";
import { kvKeys } from "../../src/storage/kv-schema";
import { TEST_PUBLISHABLE_KEY, TEST_SERVICE_KEYS } from "../support/config";
import {
  clearCalls,
  expiredToken,
  SEED,
  setSessionStatus,
  signIn,
  tokenWith,
  upstreamCalls,
} from "../support/emulator";
import { coldIsolate, useFreshWorld } from "../support/fresh-world";

/**
 * clerkMiddleware / getAuth / requireAuth on an app's own routes: signed-out auth (never a
 * throw) for every bad credential with the reason kept, Clerk-shaped refusals, roles and
 * permissions, failures counted per address, and bindings and settings named by the app.
 */

type Envelope = { errors: Array<{ code: string; long_message: string }> };

/** A small app as a user would write it; /whoami is public and reports what the middleware saw. */
function app(options: Parameters<typeof clerkMiddleware>[0] = {}) {
  const app = new Hono();
  app.use("*", clerkMiddleware(options));
  app.get("/whoami", (c) => {
    const auth = getAuth(c);
    return c.json(
      auth.isAuthenticated
        ? { userId: auth.userId, sessionId: auth.sessionId }
        : { userId: null, reason: auth.debug().reason },
    );
  });
  app.get("/private", requireAuth(), (c) => c.json({ userId: getAuth(c).userId }));
  app.get("/admin", requireAuth({ role: "admin" }), (c) => c.json({ ok: true }));
  app.get("/invoices", requireAuth({ permission: "org:invoices:read" }), (c) => c.json({ ok: true }));
  app.get("/token", requireAuth(), async (c) => {
    const auth = getAuth(c);
    const template = c.req.query("template");
    return c.json({ token: await auth.getToken(template ? { template } : undefined) });
  });
  return app;
}

const get = (target: Hono, path: string, headers: Record<string, string> = {}, bindings: object = env) =>
  target.request(`https://app.example.test${path}`, { headers }, bindings);
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

useFreshWorld();

describe("a missing or bad credential is a signed-out auth, never a throw", () => {
  const cases: Array<[string, () => Promise<Record<string, string>>, string]> = [
    ["no credential", async () => ({}), "missing"],
    ["a malformed Authorization header", async () => ({ Authorization: "Token abc" }), "malformed_authorization"],
    ["a gateway service key", async () => bearer(TEST_SERVICE_KEYS[0]), "malformed"],
    ["an expired token", async () => bearer(await expiredToken(SEED.sessions.aliceDesktop.id)), "expired"],
    [
      "a token from another issuer",
      async () => bearer(await tokenWith(SEED.sessions.aliceDesktop.id, { iss: "https://evil.clerk.accounts.dev" })),
      "wrong_issuer",
    ],
    [
      "a token for an unauthorized azp",
      async () => bearer(await tokenWith(SEED.sessions.aliceDesktop.id, { azp: "https://evil.example" })),
      "azp_not_allowed",
    ],
    ["a garbage cookie", async () => ({ Cookie: "__session=not-a-token" }), "malformed"],
  ];
  for (const [name, headers, reason] of cases) {
    it(`${name}: public route sees userId null (reason ${reason}); requireAuth answers 401; no call to Clerk`, async () => {
      const target = app();
      const sent = await headers();
      // Clerk's keys already known, as after the app's first request: what is left is the refusal itself.
      await get(target, "/whoami", bearer((await signIn("dave")).token));
      await clearCalls();
      const open = await get(target, "/whoami", sent);
      expect(open.status).toBe(200);
      expect(await open.json()).toEqual({ userId: null, reason });
      const closed = await get(target, "/private", sent);
      expect(closed.status).toBe(401);
      expect(closed.headers.get("Cache-Control")).toBe("private, no-store");
      const body = (await closed.json()) as Envelope;
      expect(body.errors[0]?.code).toBe("authentication_invalid");
      expect(await upstreamCalls()).toBe(0);
    });
  }

  it("no credential: the app's 401 asks for a session token and never suggests a service key, which its routes refuse", async () => {
    const closed = await get(app(), "/private");
    expect(closed.status).toBe(401);
    const [error] = ((await closed.json()) as Envelope & { errors: Array<{ meta?: unknown }> }).errors;
    expect(error?.meta).toEqual({ reason: "credential_missing" });
    expect(error?.long_message).toContain("Authorization: Bearer <token>");
    expect(error?.long_message).toContain("session token");
    expect(error?.long_message).not.toMatch(/service key|GATEWAY_API_KEYS/);
  });

  it("a valid token in the __session cookie signs in, as with @clerk/hono", async () => {
    const device = await signIn("alice");
    const response = await get(app(), "/whoami", { Cookie: `__session=${device.token}` });
    expect(await response.json()).toEqual({ userId: SEED.users.alice.id, sessionId: device.session_id });
  });

  it("a cookie-authenticated write must come from an authorized origin, as on the gateway's routes (403, handler not run, no call)", async () => {
    const device = await signIn("alice");
    const target = new Hono();
    let ran = 0;
    target.post("/api/delete", clerkMiddleware(), requireAuth(), (c) => {
      ran++;
      return c.json({ userId: getAuth(c).userId });
    });
    const post = (headers: Record<string, string>) =>
      target.request("https://app.example.test/api/delete", { method: "POST", headers }, env);
    await clearCalls();
    for (const origin of ["https://evil.example", undefined]) {
      const response = await post({ Cookie: `__session=${device.token}`, ...(origin ? { Origin: origin } : {}) });
      expect(response.status).toBe(403);
      expect(((await response.json()) as Envelope).errors[0]?.code).toBe("authorization_invalid");
    }
    expect(ran).toBe(0);
    expect(await upstreamCalls()).toBe(0);
    // From the app's own origin, or with the token in a header (never sent by a browser on its own): the user.
    expect((await post({ Cookie: `__session=${device.token}`, Origin: "https://app.example.com" })).status).toBe(200);
    expect((await post({ ...bearer(device.token), Origin: "https://evil.example" })).status).toBe(200);
    expect(ran).toBe(2);
  });

  it("getAuth without clerkMiddleware is a programming error and says so", async () => {
    const bare = new Hono();
    let message = "";
    bare.get("/", (c) => c.json(getAuth(c)));
    bare.onError((error, c) => {
      message = error.message;
      return c.text("error", 500);
    });
    expect((await bare.request("/", {}, env)).status).toBe(500);
    expect(message).toContain("clerkMiddleware()");
  });
});

describe("requireAuth: roles and permissions of the active organization", () => {
  it("403 in Clerk's envelope without the role or permission, 200 with them", async () => {
    const device = await signIn("alice");
    const member = await tokenWith(device.session_id, {
      o: { id: "org_2acme", slg: "acme", rol: "member", per: "read", fpm: "1" },
      fea: "o:invoices",
    });
    const admin = await tokenWith(device.session_id, { o: { id: "org_2acme", slg: "acme", rol: "admin" } });
    const target = app();

    const refused = await get(target, "/admin", bearer(member));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Envelope).errors[0]?.code).toBe("authorization_invalid");
    expect((await get(target, "/admin", bearer(admin))).status).toBe(200);
    expect((await get(target, "/invoices", bearer(member))).status).toBe(200);
    expect((await get(target, "/invoices", bearer(admin))).status).toBe(403);
    // No organization at all: no role, no permission.
    expect((await get(target, "/admin", bearer(device.token))).status).toBe(403);
  });
});

describe("a long-lived token's session is confirmed with Clerk, as on the gateway's routes", () => {
  it("accepted while Clerk reports the session active; refused once it ended there, with no webhook", async () => {
    const device = await signIn("bob");
    const now = Math.floor(Date.now() / 1000);
    // Minted to live an hour (expires_in_seconds): it outlives Clerk's 60 s, so its session is asked about.
    const token = await tokenWith(device.session_id, { iat: now, nbf: now - 10, exp: now + 3_600 });
    const target = app();
    await clearCalls();
    expect(await (await get(target, "/whoami", bearer(token))).json()).toMatchObject({ userId: SEED.users.bob.id });
    expect(await upstreamCalls({ path: `/v1/sessions/${device.session_id}` })).toBe(1);

    await setSessionStatus(device.session_id, "ended");
    coldIsolate(); // past the isolate's memory of the status
    const refused = await get(target, "/whoami", bearer(token));
    expect(await refused.json()).toEqual({ userId: null, reason: "session_ended" });
    // Recorded as the gateway records it: the next request is refused without asking Clerk again.
    expect(await env.SESSION_CACHE.get(kvKeys.revoked(device.session_id))).not.toBeNull();
    await clearCalls();
    expect((await get(target, "/private", bearer(token))).status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("getToken", () => {
  it("returns the request's own token, and mints a JWT-template token through Clerk when asked", async () => {
    const device = await signIn("alice");
    const target = app();
    const own = await get(target, "/token", bearer(device.token));
    expect(await own.json()).toEqual({ token: device.token });

    await clearCalls();
    const minted = (await (await get(target, "/token?template=supabase", bearer(device.token))).json()) as {
      token: string;
    };
    expect(decodeJwt(minted.token).sub).toBe(SEED.users.alice.id);
    expect(await upstreamCalls({ path: `/v1/sessions/${device.session_id}/tokens/supabase` })).toBe(1);
  });
});

describe("failed attempts count per client address, as on the gateway's routes", () => {
  it(`after ${RATE_LIMITS.RL_AUTH_FAILURES.limit} failures from one address requireAuth answers 429 with Retry-After`, async () => {
    // The real limit, on the suite's test binding, named through the options as an app would.
    const target = app({ bindings: { RL_AUTH_FAILURES: "RL_TEST_AUTH_FAILURES" } });
    const ip = { "CF-Connecting-IP": "203.0.113.77" };
    for (let i = 0; i < RATE_LIMITS.RL_AUTH_FAILURES.limit; i++) {
      expect((await get(target, "/private", { ...ip, Authorization: "Bearer x.y.z" })).status).toBe(401);
    }
    const limited = await get(target, "/private", { ...ip, Authorization: "Bearer x.y.z" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe(String(RATE_LIMITS.RL_AUTH_FAILURES.period));
    expect(((await limited.json()) as Envelope).errors[0]?.code).toBe("rate_limit_exceeded");
    // Another address is unaffected.
    const device = await signIn("bob");
    const other = await get(target, "/private", { "CF-Connecting-IP": "203.0.113.78", ...bearer(device.token) });
    expect(other.status).toBe(200);
  });
});

describe("an app names its own bindings and settings", () => {
  it("reads the gateway's KV under the app's binding name and Clerk keys passed in code", async () => {
    const device = await signIn("carol");
    const { SESSION_CACHE, CLERK_PUBLISHABLE_KEY: _pk, ...rest } = env;
    const appEnv = { ...rest, AUTH_KV: SESSION_CACHE };
    const target = app({ bindings: { SESSION_CACHE: "AUTH_KV" }, publishableKey: TEST_PUBLISHABLE_KEY });
    const response = await get(target, "/whoami", bearer(device.token), appEnv);
    expect(await response.json()).toEqual({ userId: SEED.users.carol.id, sessionId: device.session_id });
  });

  it("a missing KV binding is a configuration error naming it, never a silently weaker check", async () => {
    const { SESSION_CACHE: _kv, ...withoutKv } = env;
    const target = app({ bindings: { SESSION_CACHE: "AUTH_KV" } });
    let message = "";
    target.onError((error, c) => {
      message = error.message;
      return c.text("misconfigured", 500);
    });
    const device = await signIn("carol");
    expect((await get(target, "/private", bearer(device.token), withoutKv)).status).toBe(500);
    expect(message).toContain("AUTH_KV");
  });
});
