import { env } from "cloudflare:workers";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { resetIsolateMemory } from "../../src/core/isolate-memory";
import * as ours from "../../src/hono";
import { TEST_AUTHORIZED_PARTIES, TEST_SERVICE_KEYS } from "../support/config";
import {
  clearCalls,
  clearFaults,
  emulatorCalls,
  freshToken,
  SEED,
  setFault,
  setSessionStatus,
  signIn,
  upstreamCalls,
  webhookDeliveries,
} from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";

/**
 * The middleware's side of the second red team's findings (docs/security.md, round 2), each as
 * the attack or the outage it answers: a session token on a route written for machine callers, a
 * cookie-authenticated WebSocket handshake from a foreign page, Clerk's keys unavailable on a
 * cold isolate, a guard above the mounted gateway's webhook, a misconfiguration under Hono's
 * default error handler, and mount prefixes that try to change the request's host.
 */

type Envelope = { errors: Array<{ code: string; long_message: string; meta?: Record<string, unknown> }> };

useFreshWorld();
afterEach(clearFaults);
const errorLines: string[] = [];
const capture = captureConsole({ onLine: (line, level) => level === "error" && errorLines.push(line) });
afterEach(() => {
  errorLines.length = 0;
});

const url = (path: string) => `https://app.example.test${path}`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** What an app can observe of an auth object, functions aside. */
function observable(auth: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(auth).filter(([, value]) => typeof value !== "function"));
}

describe("acceptsToken is enforced: a route that asks for a machine token never gets a user", () => {
  type AcceptsToken = ours.GetAuthOptions["acceptsToken"];
  const asked: AcceptsToken[] = [
    "api_key",
    "m2m_token",
    "oauth_token",
    ["api_key", "m2m_token"],
    ["session_token", "api_key"],
    "session_token",
    "any",
  ];
  type Kit = {
    clerkMiddleware: () => MiddlewareHandler;
    getAuth: (c: Context, options: { acceptsToken?: AcceptsToken }) => Record<string, unknown>;
  };
  function appWith({ clerkMiddleware, getAuth }: Kit) {
    const app = new Hono();
    app.use("*", clerkMiddleware());
    app.get("/machine", (c) => {
      const raw = c.req.query("accepts") ?? "session_token";
      const acceptsToken = (raw.includes(",") ? raw.split(",") : raw) as AcceptsToken;
      const auth = getAuth(c, { acceptsToken });
      // A route written for machine callers, as Clerk's docs write it.
      if (!auth.isAuthenticated) return c.json({ refused: observable(auth) }, 401);
      return c.json({ served: { tokenType: auth.tokenType, userId: auth.userId ?? null } });
    });
    return app;
  }
  const oursApp = appWith({
    clerkMiddleware: () => ours.clerkMiddleware(),
    getAuth: (c, options) => ours.getAuth(c, options) as unknown as Record<string, unknown>,
  });
  let theirs: Hono;
  beforeAll(async () => {
    const clerk = await import("@clerk/hono");
    theirs = appWith({
      clerkMiddleware: () => clerk.clerkMiddleware(),
      getAuth: (c, options) => clerk.getAuth(c, options as never) as unknown as Record<string, unknown>,
    });
  });
  const appEnv = { ...env, CLERK_API_VERSION: undefined };

  for (const acceptsToken of asked) {
    const query = Array.isArray(acceptsToken) ? acceptsToken.join(",") : String(acceptsToken);
    it(`acceptsToken ${JSON.stringify(acceptsToken)} with a user's session token: answered as @clerk/hono answers it`, async () => {
      const alice = await signIn("alice");
      const init = { headers: bearer(alice.token) };
      const [a, b] = await Promise.all([
        theirs.request(url(`/machine?accepts=${query}`), init, appEnv),
        oursApp.request(url(`/machine?accepts=${query}`), init, appEnv),
      ]);
      const theirsAnswer = { status: a.status, body: await a.json() };
      const oursAnswer = { status: b.status, body: await b.json() };
      expect(oursAnswer).toEqual(theirsAnswer);
      const machineOnly = acceptsToken !== "any" && !acceptsToken?.includes("session_token");
      expect(oursAnswer.status).toBe(machineOnly ? 401 : 200);
    });
  }

  it("the refusal has @clerk/backend's shape for the kind asked, and keeps why in debug()", async () => {
    const alice = await signIn("alice");
    const app = new Hono();
    app.use("*", ours.clerkMiddleware());
    app.get("/", (c) => {
      const auth = ours.getAuth(c, { acceptsToken: "api_key" });
      return c.json({ ...observable(auth as unknown as Record<string, unknown>), debug: auth.debug() });
    });
    const body = await (await app.request(url("/"), { headers: bearer(alice.token) }, env)).json();
    expect(body).toEqual({
      tokenType: "api_key",
      isAuthenticated: false,
      id: null,
      subject: null,
      scopes: null,
      name: null,
      claims: null,
      userId: null,
      orgId: null,
      debug: { reason: "token_type_mismatch" },
    });
  });
});

describe("a cookie-authenticated upgrade (a WebSocket handshake) is held to the Origin rule of a write", () => {
  function app() {
    const target = new Hono();
    target.use("*", ours.clerkMiddleware());
    // The app's own WebSocket route; a real one would return upgradeWebSocket(...).
    target.get("/ws", ours.requireAuth(), (c) => c.json({ userId: ours.getAuth(c).userId }));
    return target;
  }
  const handshake = (headers: Record<string, string>) =>
    app().request(url("/ws"), { headers: { Upgrade: "websocket", Connection: "Upgrade", ...headers } }, env);

  it("from a sibling subdomain with the victim's cookie: 403, the route never runs", async () => {
    const victim = await signIn("alice");
    for (const origin of ["https://evil.app.example.com", "null", undefined]) {
      const response = await handshake({
        Cookie: `__session=${victim.token}`,
        ...(origin === undefined ? {} : { Origin: origin }),
      });
      expect(response.status, String(origin)).toBe(403);
      expect(((await response.json()) as Envelope).errors[0]?.code).toBe("authorization_invalid");
    }
  });

  it("from an authorized origin, or with the token in Authorization (a page cannot forge that): served", async () => {
    const alice = await signIn("alice");
    const fromApp = await handshake({ Cookie: `__session=${alice.token}`, Origin: TEST_AUTHORIZED_PARTIES[1] });
    expect(await fromApp.json()).toEqual({ userId: SEED.users.alice.id });
    const withHeader = await handshake({ ...bearer(alice.token), Origin: "https://evil.example" });
    expect(await withHeader.json()).toEqual({ userId: SEED.users.alice.id });
  });

  it("a plain cookie GET without Upgrade stays a safe read", async () => {
    const alice = await signIn("alice");
    const target = app();
    const response = await target.request(
      url("/ws"),
      { headers: { Cookie: `__session=${alice.token}`, Origin: "https://evil.example" } },
      env,
    );
    expect(response.status).toBe(200);
  });
});

describe("Clerk's keys cannot be loaded (cold isolate, no JWKS in KV, Clerk's JWKS failing)", () => {
  // The key store that saw the outage would answer 503 until its refetch interval passed: the next test gets a new one.
  afterEach(() => resetIsolateMemory());
  function app() {
    const target = new Hono();
    // No onError: Hono's default would turn a thrown error into a bare 500.
    target.use("*", ours.clerkMiddleware());
    target.get("/public", (c) => {
      const auth = ours.getAuth(c);
      return c.json({ userId: auth.userId, reason: auth.isAuthenticated ? null : auth.debug().reason });
    });
    target.get("/private", ours.requireAuth(), (c) => c.json({ userId: ours.getAuth(c).userId }));
    return target;
  }

  it("a public route keeps working (signed out, reason keys_unavailable); requireAuth answers 503 with Retry-After", async () => {
    const alice = await signIn("alice");
    // A new isolate, signing keys included, and KV as fresh as the world: no key anywhere but at Clerk.
    resetIsolateMemory();
    await setFault({ method: "GET", path: "/v1/jwks", mode: "503" });
    await clearCalls();
    const target = app();

    const open = await target.request(url("/public"), { headers: bearer(alice.token) }, env);
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ userId: null, reason: "keys_unavailable" });

    const guarded = await target.request(url("/private"), { headers: bearer(alice.token) }, env);
    expect(guarded.status).toBe(503);
    expect(Number(guarded.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(((await guarded.json()) as Envelope).errors[0]?.code).toBe("upstream_unavailable");
    // Clerk was asked for its keys and for nothing else.
    const calls = await emulatorCalls();
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((call) => call.path === "/v1/jwks")).toBe(true);
    expect(errorLines).toEqual([]);
  });
});

describe("a guard above a mounted gateway never swallows Clerk's webhooks", () => {
  /** requireAuth() on the prefix that also holds the gateway, as an app protecting "everything under /clerk" writes it. */
  function guardedPrefix() {
    const app = new Hono();
    app.use("*", ours.clerkMiddleware());
    app.use("/clerk/*", ours.requireAuth());
    app.get("/clerk/account", (c) => c.json({ userId: ours.getAuth(c).userId }));
    app.route("/clerk", ours.sessionGateway());
    return app;
  }
  /** requireAuth() on everything, the gateway mounted after it. */
  function guardedEverything() {
    const app = new Hono();
    app.use("*", ours.requireAuth());
    app.route("/clerk", ours.sessionGateway());
    return app;
  }

  for (const [name, build] of [
    ["requireAuth() on the gateway's prefix", guardedPrefix],
    ["requireAuth() on every path", guardedEverything],
  ] as const) {
    it(`${name}: a signed session.revoked delivery is applied, and the session is refused at once`, async () => {
      const app = build();
      const device = await signIn("alice");
      const token = await freshToken(device.session_id);
      await setSessionStatus(device.session_id, "revoked");
      const delivery = (await webhookDeliveries("session.revoked")).at(-1);
      if (!delivery) throw new Error("no session.revoked delivery");

      const response = await app.request(
        url("/clerk/webhooks/clerk"),
        { method: "POST", headers: { "content-type": "application/json", ...delivery.headers }, body: delivery.body },
        env,
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ received: true, type: "session.revoked", applied: true });

      const after = await app.request(url("/clerk/v1/me/sessions/active"), { headers: bearer(token) }, env);
      expect(after.status).toBe(401);
    });

    it(`${name}: a service key still reaches the gateway's Backend-API routes`, async () => {
      const response = await build().request(
        url(`/clerk/v1/sessions/${SEED.sessions.aliceDesktop.id}`),
        { headers: bearer(TEST_SERVICE_KEYS[0]) },
        env,
      );
      expect(response.status).toBe(200);
    });
  }

  it("the app's own route under the same prefix is still guarded", async () => {
    await clearCalls();
    const response = await guardedPrefix().request(url("/clerk/account"), {}, env);
    expect(response.status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
  });

  it("an anonymous request to the gateway's own routes gets the gateway's answer, not the guard's", async () => {
    const response = await guardedPrefix().request(url("/clerk/v1/me/sessions"), {}, env);
    expect(response.status).toBe(401);
    const body = (await response.json()) as Envelope;
    expect(body.errors[0]?.meta?.reason).toBe("credential_missing");
  });
});

describe("a misconfiguration renders in Clerk's envelope under Hono's default error handler", () => {
  it("CLERK_SECRET_KEY missing: 500 naming the setting, never a bare Internal Server Error", async () => {
    const app = new Hono();
    app.use("*", ours.clerkMiddleware());
    app.get("/", (c) => c.json({ userId: ours.getAuth(c).userId }));
    const { CLERK_SECRET_KEY: _secret, ...withoutSecret } = env;
    const response = await app.request(url("/"), {}, withoutSecret);
    expect(response.status).toBe(500);
    const body = (await response.json()) as Envelope;
    expect(body.errors[0]).toMatchObject({ code: "internal_error", meta: { setting: "CLERK_SECRET_KEY" } });
    expect(body.errors[0]?.long_message).toContain("CLERK_SECRET_KEY");
    expect(capture.json().some((line) => line.msg === "gateway_misconfigured")).toBe(true);
  });
});

describe("mount prefixes cannot change what the gateway sees", () => {
  function app() {
    const target = new Hono();
    target.route("/clerk", ours.sessionGateway());
    target.notFound((c) => c.text("the app's own 404", 404));
    return target;
  }

  it("`//host` after the prefix stays a path: the gateway's 404, never its /healthz on another host", async () => {
    const response = await app().request(url("/clerk//evil.example/healthz"), {}, env);
    expect(response.status).toBe(404);
    expect(((await response.json()) as Envelope).errors[0]?.code).toBe("resource_not_found");
  });

  it("`;` parameters and encoded prefixes route as Hono routes them, and nothing answers 5xx", async () => {
    for (const path of ["/clerk;x=1/healthz", "/%63lerk/healthz", "/clerk%2Fhealthz", "/clerk/%2e%2e/healthz"]) {
      const response = await app().request(url(path), {}, env);
      expect(response.status, path).toBeLessThan(500);
    }
    expect(await (await app().request(url("/%63lerk/healthz"), {}, env)).json()).toEqual({ status: "ok" });
  });
});
