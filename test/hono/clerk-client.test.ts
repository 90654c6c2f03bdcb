import { env } from "cloudflare:workers";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import * as ours from "../../src/hono";
import {
  BACKEND_CLIENT_MISSING,
  backendClientFor,
  backendClientOptions,
  provideBackendClient,
} from "../../src/hono/backend-client";
import { gatewayEnv } from "../../src/hono/bindings";
import "../../src/hono/clerk-client";
import { SEED, signIn } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";

/**
 * `c.get("clerk")` and `c.get("clerkAuth")` as `@clerk/hono` sets them: the same handler code,
 * once under each middleware, against the emulator, with the same answers.
 */

type Kit = { clerkMiddleware: () => MiddlewareHandler; getAuth: (c: Context) => { userId: string | null } };

const seen: unknown[] = [];

function appWith({ clerkMiddleware, getAuth }: Kit) {
  const app = new Hono();
  app.use("*", clerkMiddleware());
  app.get("/api/profile", async (c) => {
    const { userId } = getAuth(c);
    if (!userId) return c.json({ error: "signed out" }, 401);
    seen.push(c.get("clerk"));
    const user = await c.get("clerk").users.getUser(userId);
    return c.json({
      id: user.id,
      firstName: user.firstName,
      email: user.primaryEmailAddress?.emailAddress ?? null,
      user,
    });
  });
  app.get("/api/clerk-auth", (c) => {
    const session = c.get("clerkAuth")();
    const any = c.get("clerkAuth")({ acceptsToken: "any" });
    const apiKey = c.get("clerkAuth")({ acceptsToken: "api_key" });
    const list = c.get("clerkAuth")({ acceptsToken: ["api_key", "m2m_token"] });
    return c.json({
      session: { userId: session.userId, sessionId: session.sessionId, tokenType: session.tokenType },
      any: { tokenType: any.tokenType, isAuthenticated: any.isAuthenticated },
      apiKey: { tokenType: apiKey.tokenType, isAuthenticated: apiKey.isAuthenticated, id: apiKey.id },
      list: { tokenType: list.tokenType, isAuthenticated: list.isAuthenticated },
    });
  });
  return app;
}

let theirs: Hono;
const oursApp = appWith({ clerkMiddleware: () => ours.clerkMiddleware(), getAuth: ours.getAuth });

beforeAll(async () => {
  const clerk = await import("@clerk/hono");
  theirs = appWith({ clerkMiddleware: () => clerk.clerkMiddleware(), getAuth: (c) => clerk.getAuth(c) });
});

useFreshWorld();

/** As in drop-in.test.ts: without CLERK_API_VERSION, both defaults are right. */
const appEnv = { ...env, CLERK_API_VERSION: undefined };

async function both(path: string, token?: string) {
  const init = token ? { headers: { Authorization: `Bearer ${token}` } } : {};
  const [a, b] = await Promise.all([
    theirs.request(`https://app.example.test${path}`, init, appEnv),
    oursApp.request(`https://app.example.test${path}`, init, appEnv),
  ]);
  return {
    theirs: { status: a.status, body: await a.json() },
    ours: { status: b.status, body: await b.json() },
  };
}

describe('c.get("clerk"): a @clerk/backend client, as @clerk/hono sets it', () => {
  it("users.getUser(userId) answers the same under both middlewares", async () => {
    const device = await signIn("alice");
    const answers = await both("/api/profile", device.token);
    expect(answers.theirs.status).toBe(200);
    expect(answers.theirs.body).toMatchObject({ id: SEED.users.alice.id });
    expect(answers.ours).toEqual(answers.theirs);
  });

  it("is one client per environment and options, not one per request", async () => {
    seen.length = 0;
    const device = await signIn("bob");
    const init = { headers: { Authorization: `Bearer ${device.token}` } };
    await oursApp.request("https://app.example.test/api/profile", init, appEnv);
    await oursApp.request("https://app.example.test/api/profile", init, appEnv);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
  });

  it("is built from the middleware's settings, as @clerk/hono passes them", () => {
    const view = gatewayEnv(appEnv, {});
    expect(
      backendClientOptions(
        { ...view, CLERK_API_VERSION: "2026-05-12", CLERK_MACHINE_SECRET_KEY: "ak_machine" } as typeof view,
        { jwtKey: "-----BEGIN PUBLIC KEY-----", authorizedParties: ["https://app.example.test"] },
      ),
    ).toEqual({
      secretKey: appEnv.CLERK_SECRET_KEY,
      publishableKey: appEnv.CLERK_PUBLISHABLE_KEY,
      machineSecretKey: "ak_machine",
      apiUrl: appEnv.CLERK_API_URL,
      // A Clerk-API-Version date is the gateway's; @clerk/backend keeps its path version.
      apiVersion: undefined,
      jwtKey: "-----BEGIN PUBLIC KEY-----",
      authorizedParties: ["https://app.example.test"],
    });
    expect(backendClientOptions({ ...view, CLERK_API_VERSION: "v1" } as typeof view, {}).apiVersion).toBe("v1");
  });

  it("without clerk-session-gateway/hono/clerk-client, any use says how to get it", () => {
    const client = backendClientFor(appEnv, {}, null) as { users: unknown };
    expect(() => client.users).toThrow(BACKEND_CLIENT_MISSING);
    // Awaited or inspected, it is not a thenable.
    expect((client as { then?: unknown }).then).toBeUndefined();
    expect(BACKEND_CLIENT_MISSING).toMatch(/npm install @clerk\/backend/);
  });

  it("the factory handed over is the one used", () => {
    const made: unknown[] = [];
    const view = { ...appEnv, CLERK_SECRET_KEY: "sk_test_other" };
    const client = backendClientFor(view, {}, (options) => {
      made.push(options);
      return { fake: true };
    });
    expect(client).toEqual({ fake: true });
    expect(made).toMatchObject([{ secretKey: "sk_test_other" }]);
    // The real one is in place for the rest of the file.
    expect(typeof provideBackendClient).toBe("function");
  });
});

describe('c.get("clerkAuth"): getAuth without the context, as @clerk/hono sets it', () => {
  it("a session token: the same for every acceptsToken asked", async () => {
    const device = await signIn("alice");
    const answers = await both("/api/clerk-auth", device.token);
    expect(answers.theirs.status).toBe(200);
    expect(answers.theirs.body).toMatchObject({
      session: { userId: SEED.users.alice.id, tokenType: "session_token" },
      apiKey: { tokenType: "api_key", isAuthenticated: false, id: null },
      list: { tokenType: null, isAuthenticated: false },
    });
    expect(answers.ours).toEqual(answers.theirs);
  });

  it("no token: the same signed-out objects", async () => {
    const answers = await both("/api/clerk-auth");
    expect(answers.ours).toEqual(answers.theirs);
  });
});
