import { env } from "cloudflare:workers";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import * as ours from "../../src/hono";
import { clearCalls, expiredToken, freshToken, SEED, signIn, tokenWith, upstreamCalls } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, SERVICE_KEY } from "../support/gateway";

/**
 * Proof that `clerk-session-gateway/hono` is a drop-in for `@clerk/hono`: the same handler code
 * runs once with Clerk's clerkMiddleware/getAuth and once with ours, against the emulator, in the
 * same Worker environment. The answers are the same for every token Clerk's middleware judges
 * correctly; the difference is a revoked session, which Clerk's middleware keeps accepting
 * until its token expires and ours refuses at once.
 */

type AuthLike = {
  userId: string | null;
  sessionId: string | null;
  orgId?: string | null;
  orgRole?: string | null;
  orgSlug?: string | null;
  orgPermissions?: string[] | null;
  factorVerificationAge?: [number, number] | null;
};
type Kit = { clerkMiddleware: () => MiddlewareHandler; getAuth: (c: Context) => AuthLike };

/** The app code under test: written once, against the shared names. */
function appWith({ clerkMiddleware, getAuth }: Kit) {
  const app = new Hono();
  app.use("*", clerkMiddleware());
  app.get("/api/me", (c) => {
    const auth = getAuth(c);
    if (!auth.userId) return c.json({ signedIn: false }, 401);
    return c.json({
      userId: auth.userId,
      sessionId: auth.sessionId,
      orgId: auth.orgId ?? null,
      orgRole: auth.orgRole ?? null,
      orgSlug: auth.orgSlug ?? null,
      orgPermissions: auth.orgPermissions ?? null,
      factorVerificationAge: auth.factorVerificationAge ?? null,
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

/**
 * One environment for both. Without CLERK_API_VERSION: `@clerk/backend` reads that name as its URL
 * path version ("v1"), the gateway as the Clerk-API-Version date header; both defaults are right.
 */
const appEnv = { ...env, CLERK_API_VERSION: undefined };

async function both(token?: string) {
  const init = token ? { headers: { Authorization: `Bearer ${token}` } } : {};
  const [a, b] = await Promise.all([
    theirs.request("https://app.example.test/api/me", init, appEnv),
    oursApp.request("https://app.example.test/api/me", init, appEnv),
  ]);
  return {
    theirs: { status: a.status, body: await a.json() },
    ours: { status: b.status, body: await b.json() },
  };
}

describe("the same handler gives the same answers with @clerk/hono and with ours", () => {
  it("a valid token: 200, same userId, sessionId and factor age", async () => {
    const device = await signIn("alice");
    const answers = await both(device.token);
    expect(answers.theirs.status).toBe(200);
    expect(answers.ours).toEqual(answers.theirs);
    expect(answers.ours.body).toMatchObject({ userId: SEED.users.alice.id, sessionId: device.session_id });
  });

  it("no token: signed out with both", async () => {
    const answers = await both();
    expect(answers.theirs).toEqual({ status: 401, body: { signedIn: false } });
    expect(answers.ours).toEqual(answers.theirs);
  });

  it("an expired token: signed out with both", async () => {
    const device = await signIn("bob");
    const answers = await both(await expiredToken(device.session_id));
    expect(answers.theirs).toEqual({ status: 401, body: { signedIn: false } });
    expect(answers.ours).toEqual(answers.theirs);
  });

  it("organization claims, v2 (`o`, `fea`) and v1 (`org_*`), read the same", async () => {
    const device = await signIn("alice");
    const v2 = await tokenWith(device.session_id, {
      o: { id: "org_2acme", slg: "acme", rol: "admin", per: "read,manage", fpm: "3,1" },
      fea: "o:invoices,o:reports,u:beta",
    });
    const v2Answers = await both(v2);
    expect(v2Answers.theirs.status).toBe(200);
    expect(v2Answers.ours).toEqual(v2Answers.theirs);
    expect(v2Answers.ours.body).toMatchObject({ orgId: "org_2acme", orgRole: "org:admin" });

    const v1 = await tokenWith(device.session_id, {
      v: undefined,
      o: undefined,
      org_id: "org_2acme",
      org_role: "org:member",
      org_slug: "acme",
      org_permissions: ["org:invoices:read"],
    });
    const v1Answers = await both(v1);
    expect(v1Answers.theirs.status).toBe(200);
    expect(v1Answers.ours).toEqual(v1Answers.theirs);
    expect(v1Answers.ours.body).toMatchObject({ orgRole: "org:member", orgPermissions: ["org:invoices:read"] });
  });
});

describe("the difference: a revoked session", () => {
  it("revoked through the gateway: @clerk/hono still answers 200, ours 401 without calling Clerk", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    expect((await both(token)).ours.status).toBe(200);

    const revoke = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(revoke.status).toBe(200);

    await clearCalls();
    const answers = await both(token);
    expect(answers.theirs).toMatchObject({ status: 200, body: { userId: SEED.users.alice.id } });
    expect(answers.ours).toEqual({ status: 401, body: { signedIn: false } });
    // Neither middleware asked Clerk: Clerk's trusts the token, ours the gateway's revocation state.
    expect(await upstreamCalls()).toBe(0);
  });
});
