import { env } from "cloudflare:workers";
import { type Context, Hono } from "hono";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import { clerkMiddleware, getAuth } from "../../src/hono";
import { verifyWebhook } from "../../src/hono/webhooks";
import { kvKeys } from "../../src/storage/kv-schema";
import { TEST_WEBHOOK_SECRET } from "../support/config";
import {
  freshToken,
  SEED,
  setSessionStatus,
  signIn,
  type WebhookDelivery,
  webhookDeliveries,
} from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { kvJson } from "../support/gateway";

/**
 * `verifyWebhook(c)` from `clerk-session-gateway/hono/webhooks`: the same handler as with
 * `@clerk/hono/webhooks` gets the same event and the same errors, and a verified session event
 * is recorded, so the app's own middleware signs the ended session out at once.
 */

/** A delivery as it reaches the app: raw body and headers. */
type Delivery = { headers: Record<string, string>; body: string };

type Verify = (c: Context, options?: { signingSecret?: string }) => Promise<{ type: string; data: unknown }>;

function webhookApp(verify: Verify, options?: { signingSecret?: string }) {
  const app = new Hono();
  app.post("/webhooks/clerk", async (c) => {
    try {
      const event = await verify(c, options);
      return c.json({ received: true, event });
    } catch (error) {
      return c.json({ error: error instanceof Error ? error.message : String(error) }, 400);
    }
  });
  return app;
}

let theirs: Hono;
const ours = webhookApp(verifyWebhook, { signingSecret: TEST_WEBHOOK_SECRET });

beforeAll(async () => {
  const clerk = await import("@clerk/hono/webhooks");
  theirs = webhookApp(clerk.verifyWebhook as Verify, { signingSecret: TEST_WEBHOOK_SECRET });
});

useFreshWorld();

/** The app's own routes, on the gateway's middleware. */
const api = new Hono();
api.use("*", clerkMiddleware());
api.get("/api/me", (c) => c.json({ userId: getAuth(c).userId }, getAuth(c).userId ? 200 : 401));

async function lastDelivery(type: WebhookDelivery["type"]): Promise<WebhookDelivery> {
  const last = (await webhookDeliveries(type)).at(-1);
  if (!last) throw new Error(`no ${type} delivery`);
  return last;
}

const post = (app: Hono, delivery: Delivery, headers: Record<string, string> = {}) =>
  app.request(
    "https://app.example.test/webhooks/clerk",
    {
      method: "POST",
      headers: { "content-type": "application/json", ...delivery.headers, ...headers },
      body: delivery.body,
    },
    env,
  );

async function both(delivery: Delivery, headers: Record<string, string> = {}) {
  const [a, b] = await Promise.all([post(theirs, delivery, headers), post(ours, delivery, headers)]);
  return {
    theirs: { status: a.status, body: await a.json() },
    ours: { status: b.status, body: await b.json() },
  };
}

function signed(body: string, secret = TEST_WEBHOOK_SECRET, at = new Date()) {
  const id = `msg_${crypto.randomUUID().replace(/-/g, "")}`;
  return {
    headers: {
      "svix-id": id,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": new Webhook(secret).sign(id, at, body),
    },
    body,
  };
}

describe("verifyWebhook: what @clerk/hono/webhooks answers", () => {
  it("a signed session.created event: the same event", async () => {
    await signIn("alice");
    const answers = await both(await lastDelivery("session.created"));
    expect(answers.theirs.status).toBe(200);
    expect(answers.theirs.body).toMatchObject({ event: { type: "session.created", object: "event" } });
    expect(answers.ours).toEqual(answers.theirs);
  });

  it("a user event: the same event, and nothing recorded", async () => {
    const delivery = signed(JSON.stringify({ type: "user.updated", object: "event", data: { id: SEED.users.bob.id } }));
    const answers = await both(delivery);
    expect(answers.theirs.status).toBe(200);
    expect(answers.ours).toEqual(answers.theirs);
  });

  it.each([
    ["a bad signature", (d: WebhookDelivery) => ({ ...d, headers: { ...d.headers, "svix-signature": "v1,AAAA" } })],
    ["another secret", (d: WebhookDelivery) => signed(d.body, "whsec_bm90LXRoZS1zZWNyZXQtYXQtYWxsLW5vcGU")],
    [
      "a stale timestamp",
      (d: WebhookDelivery) => signed(d.body, TEST_WEBHOOK_SECRET, new Date(Date.now() - 3_600_000)),
    ],
    ["a tampered body", (d: WebhookDelivery) => ({ ...d, body: d.body.replace("session.created", "session.revoked") })],
    ["no svix-id", (d: WebhookDelivery) => ({ ...d, headers: { ...d.headers, "svix-id": "" } })],
    ["no Svix headers at all", (d: WebhookDelivery) => ({ ...d, headers: {} })],
  ])("%s: the same error", async (_name, change) => {
    await signIn("bob");
    const answers = await both(change(await lastDelivery("session.created")));
    expect(answers.theirs.status).toBe(400);
    expect(answers.ours).toEqual(answers.theirs);
  });

  it("no signing secret anywhere: the same error", async () => {
    const withoutSecret = { ...env, CLERK_WEBHOOK_SIGNING_SECRET: undefined };
    const clerk = await import("@clerk/hono/webhooks");
    const request = () => new Request("https://app.example.test/webhooks/clerk", { method: "POST", body: "{}" });
    const [a, b] = await Promise.all([
      webhookApp(clerk.verifyWebhook as Verify).request(request(), undefined, withoutSecret),
      webhookApp(verifyWebhook).request(request(), undefined, withoutSecret),
    ]);
    const theirBody = await a.json();
    expect(a.status).toBe(400);
    expect(await b.json()).toEqual(theirBody);
  });

  it("the secret is read from the Worker's environment when not passed", async () => {
    await signIn("carol");
    const response = await post(webhookApp(verifyWebhook), await lastDelivery("session.created"));
    expect(response.status).toBe(200);
  });
});

describe("verifyWebhook records what it verifies", () => {
  for (const status of ["revoked", "ended", "removed"] as const) {
    it(`session.${status}: the app's middleware signs the session out at once`, async () => {
      const device = await signIn("alice");
      const token = await freshToken(device.session_id);
      const me = () =>
        api.request("https://app.example.test/api/me", { headers: { Authorization: `Bearer ${token}` } }, env);
      expect((await me()).status).toBe(200);
      await setSessionStatus(device.session_id, status);

      const response = await post(ours, await lastDelivery(`session.${status}`));
      expect(response.status).toBe(200);
      expect(await kvJson(kvKeys.revoked(device.session_id))).toMatchObject({ status, source: "webhook" });
      expect((await me()).status).toBe(401);
    });
  }

  it("session.pending: no revocation, the user's list marked stale", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "pending");
    expect((await post(ours, await lastDelivery("session.pending"))).status).toBe(200);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();
  });

  it("an unverified session.revoked records nothing", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "revoked");
    const delivery = await lastDelivery("session.revoked");
    const forged = { ...delivery, headers: { ...delivery.headers, "svix-signature": "v1,AAAA" } };
    expect((await post(ours, forged)).status).toBe(400);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();
  });
});
