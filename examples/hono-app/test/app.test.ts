import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { advanceClock } from "../../../src/core/clock";
import { REVOCATION_LOG_REPLICAS } from "../../../src/revocation/recent";
import { RECENT_MAX_STALE_MS } from "../../../src/revocation/recent-rules";
import { kvKeys } from "../../../src/storage/kv-schema";
import { TEST_AUTHORIZED_PARTIES } from "../../../test/support/config";
import {
  clearCalls,
  expiredToken,
  freshToken,
  SEED,
  setSessionStatus,
  signIn,
  tokenWith,
  upstreamCalls,
  type WebhookDelivery,
  webhookDeliveries,
} from "../../../test/support/emulator";
import { useFreshWorld } from "../../../test/support/fresh-world";
import app from "../src/index";

/**
 * The example app Worker end to end: its own /api routes behind clerkMiddleware + requireAuth,
 * and the gateway mounted at /clerk, sharing one KV namespace (bound as AUTH_KV) and the
 * SessionDirectory objects (AUTH_DIRECTORY; directory.test.ts covers them across isolates).
 */
const ORIGIN = "https://api.example.test";

type Init = RequestInit & { token?: string };

function call(path: string, { token, ...init }: Init = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return exports.default.fetch(new Request(new URL(path, ORIGIN), { ...init, headers }));
}

type Envelope = { errors: Array<{ code: string; message: string; long_message: string }> };

async function expectRefused(response: Response, status = 401, code = "authentication_invalid") {
  expect(response.status).toBe(status);
  const body = (await response.json()) as Envelope;
  expect(body.errors[0]?.code).toBe(code);
  expect(body.errors[0]?.long_message).toBeTypeOf("string");
}

async function lastDelivery(type: WebhookDelivery["type"]): Promise<WebhookDelivery> {
  const last = (await webhookDeliveries(type)).at(-1);
  if (!last) throw new Error(`no ${type} delivery`);
  return last;
}

useFreshWorld();

describe("/api/* is for signed-in users only", () => {
  it("anonymous: 401 in Clerk's envelope, no call to Clerk", async () => {
    await clearCalls();
    await expectRefused(await call("/api/me"));
    await expectRefused(await call("/api/notes"));
    expect(await upstreamCalls()).toBe(0);
  });

  it("signed in: 200 with the token's userId and sessionId", async () => {
    const device = await signIn("alice");
    const response = await call("/api/me", { token: device.token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      userId: SEED.users.alice.id,
      sessionId: device.session_id,
      orgId: null,
      orgRole: null,
      orgSlug: null,
      orgPermissions: null,
    });
    const notes = await call("/api/notes", { token: device.token });
    expect(((await notes.json()) as { owner: string }).owner).toBe(SEED.users.alice.id);
  });

  it("an expired, a malformed or a foreign-issuer token: 401, no call to Clerk", async () => {
    const device = await signIn("bob");
    const expired = await expiredToken(device.session_id);
    const foreign = await tokenWith(device.session_id, { iss: "https://evil.clerk.accounts.dev" });
    await clearCalls();
    await expectRefused(await call("/api/me", { token: expired }));
    await expectRefused(await call("/api/me", { token: foreign }));
    await expectRefused(await call("/api/me", { headers: { Authorization: "Basic abc" } }));
    await expectRefused(await call("/api/me", { token: "not.a.jwt" }));
    expect(await upstreamCalls()).toBe(0);
  });

  it("public routes stay public", async () => {
    expect((await call("/")).status).toBe(200);
  });
});

describe("a revoked session is refused on /api/* on the very next request", () => {
  it("revoked through the mounted gateway (another device of the same user)", async () => {
    const laptop = await signIn("alice");
    const phone = await signIn("alice");
    expect((await call("/api/me", { token: phone.token })).status).toBe(200);

    const revoke = await call(`/clerk/v1/me/sessions/${phone.session_id}/revoke`, {
      method: "POST",
      token: laptop.token,
    });
    expect(revoke.status).toBe(200);
    expect(((await revoke.json()) as { response: { status: string } }).response.status).toBe("revoked");

    await clearCalls();
    await expectRefused(await call("/api/me", { token: phone.token }));
    expect(await upstreamCalls()).toBe(0);
    // The revoking device is untouched.
    expect((await call("/api/me", { token: laptop.token })).status).toBe(200);
  });

  it("revoked by Clerk, announced by a signed webhook to the mounted gateway", async () => {
    const phone = await signIn("alice");
    const token = await freshToken(phone.session_id);
    expect((await call("/api/me", { token })).status).toBe(200);

    await setSessionStatus(phone.session_id, "revoked");
    const delivery = await lastDelivery("session.revoked");
    const applied = await call("/clerk/webhooks/clerk", {
      method: "POST",
      headers: { "content-type": "application/json", ...delivery.headers },
      body: delivery.body,
    });
    expect(applied.status).toBe(200);
    expect(await applied.json()).toMatchObject({ type: "session.revoked", applied: true });

    await clearCalls();
    await expectRefused(await call("/api/me", { token }));
    expect(await upstreamCalls()).toBe(0);
  });

  it("a forged webhook revokes nothing", async () => {
    const phone = await signIn("alice");
    await setSessionStatus(phone.session_id, "revoked");
    const delivery = await lastDelivery("session.revoked");
    const forged = await call("/clerk/webhooks/clerk", {
      method: "POST",
      headers: { "content-type": "application/json", ...delivery.headers, "svix-signature": "v1,Zm9yZ2Vk" },
      body: delivery.body,
    });
    expect(forged.status).toBe(401);
    expect(await env.AUTH_KV.get(kvKeys.revoked(phone.session_id))).toBeNull();
  });

  it("revoked by another Worker sharing the SessionDirectory and RevocationLog objects (a standalone gateway, script_name)", async () => {
    const phone = await signIn("carol");
    // What a gateway Worker bound to the same objects does when it revokes (docs/directory.md):
    // recorded in the user's object, then appended to every replica of the revocation log.
    const stub = env.AUTH_DIRECTORY.get(env.AUTH_DIRECTORY.idFromName(phone.user_id));
    await stub.recordRevoked(phone.session_id, "revoked", "gateway");
    const log = env.AUTH_REVOCATION_LOG;
    await Promise.all(
      REVOCATION_LOG_REPLICAS.map((hint) =>
        log.get(log.idFromName(`revocation-log:${hint}`)).append([phone.session_id]),
      ),
    );
    // This isolate's recent set answers alone until it is RECENT_MAX_STALE_MS old.
    advanceClock(RECENT_MAX_STALE_MS);
    await clearCalls();
    await expectRefused(await call("/api/me", { token: phone.token }));
    expect(await upstreamCalls()).toBe(0);
  });

  it("without the Durable Object bindings: revoked by another Worker sharing the KV namespace", async () => {
    const phone = await signIn("carol");
    // What a gateway Worker bound to the same namespace writes when it revokes (docs/kv-schema.md).
    await env.AUTH_KV.put(
      kvKeys.revoked(phone.session_id),
      JSON.stringify({ revoked_at: Date.now(), status: "revoked", source: "gateway" }),
    );
    await clearCalls();
    const ctx = createExecutionContext();
    const request = new Request(new URL("/api/me", ORIGIN), { headers: { Authorization: `Bearer ${phone.token}` } });
    const response = await app.fetch(
      request,
      { ...env, AUTH_DIRECTORY: undefined, AUTH_REVOCATION_LOG: undefined },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectRefused(response);
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("the gateway mounted at /clerk behaves as the standalone Worker", () => {
  it("serves the browser operations under the prefix", async () => {
    const device = await signIn("alice");
    const response = await call("/clerk/v1/me/sessions/active", { token: device.token });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Cache")).toBe("MISS");
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const ids = ((await response.json()) as Array<{ id: string }>).map((s) => s.id);
    expect(ids).toContain(device.session_id);
  });

  it("answers its own 404s, 401s and 413s in Clerk's envelope", async () => {
    await clearCalls();
    await expectRefused(await call("/clerk/v1/me/sessions/active"));
    await expectRefused(await call("/clerk/v1/nothing-here"), 404, "resource_not_found");
    const device = await signIn("bob");
    await clearCalls();
    await expectRefused(
      await call(`/clerk/v1/me/sessions/${device.session_id}/revoke`, {
        method: "POST",
        token: device.token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ padding: "x".repeat(20_000) }),
      }),
      413,
      "request_body_too_large",
    );
    expect(await upstreamCalls()).toBe(0);
  });

  it("answers CORS preflights for authorized origins only", async () => {
    const origin = TEST_AUTHORIZED_PARTIES[1];
    const preflight = await call("/clerk/v1/me/sessions/active", {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    const foreign = await call("/clerk/v1/me/sessions/active", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" },
    });
    expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("publishes its OpenAPI document with the mount as its server", async () => {
    const response = await call("/clerk/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { servers: Array<{ url: string }>; paths: Record<string, unknown> };
    expect(document.servers).toEqual([{ url: "/clerk", description: "This gateway" }]);
    expect(Object.keys(document.paths)).toContain("/v1/me/sessions/active");
    expect((await call("/clerk/healthz")).status).toBe(200);
  });
});

describe("organization claims read as @clerk/hono reads them", () => {
  it("v2 tokens: o.id, o.slg, o.rol and permissions from fea/per/fpm", async () => {
    const device = await signIn("alice");
    const token = await tokenWith(device.session_id, {
      v: 2,
      o: { id: "org_2acme", slg: "acme", rol: "admin", per: "read,manage", fpm: "3,1" },
      fea: "o:invoices,o:reports,u:beta",
    });
    const response = await call("/api/me", { token });
    expect(await response.json()).toMatchObject({
      orgId: "org_2acme",
      orgSlug: "acme",
      orgRole: "org:admin",
      // fpm is one bitmask per org feature over `per`: invoices 3 = read+manage, reports 1 = read.
      orgPermissions: ["org:invoices:read", "org:invoices:manage", "org:reports:read"],
    });
  });

  it("v1 tokens: org_id, org_role, org_slug, org_permissions", async () => {
    const device = await signIn("alice");
    const token = await tokenWith(device.session_id, {
      v: undefined,
      o: undefined,
      org_id: "org_2acme",
      org_role: "org:member",
      org_slug: "acme",
      org_permissions: ["org:invoices:read"],
    });
    const response = await call("/api/me", { token });
    expect(await response.json()).toMatchObject({
      orgId: "org_2acme",
      orgSlug: "acme",
      orgRole: "org:member",
      orgPermissions: ["org:invoices:read"],
    });
  });
});
