import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { backgroundSettled } from "../src/core/wait-until";
import { kvKeys } from "../src/storage/kv-schema";
import { TEST_WEBHOOK_SECRET } from "./support/config";
import {
  clearCalls,
  clearWebhookDeliveries,
  freshToken,
  SEED,
  setSessionStatus,
  signIn,
  upstreamCalls,
  type WebhookDelivery,
  webhookDeliveries,
} from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { call, errorBody, kvJson } from "./support/gateway";

/**
 * `POST /webhooks/clerk`, end to end: the emulator changes a session the way Clerk would, signs
 * the event the way Svix does, and the test hands the exact delivery (raw body and headers) to
 * the gateway. Only verified, first-time deliveries change anything.
 */

const alice = SEED.users.alice;

useFreshWorld();

/** Delivers, then waits for the KV writes the gateway makes after answering (the tests read KV next). */
async function deliver(delivery: Pick<WebhookDelivery, "headers" | "body">, headers: Record<string, string> = {}) {
  const response = await call("/webhooks/clerk", {
    method: "POST",
    headers: { "content-type": "application/json", ...delivery.headers, ...headers },
    body: delivery.body,
  });
  await backgroundSettled();
  return response;
}

/** Signs `body` as Svix would, at `at`, with `secret`. */
function signed(
  body: string,
  at: Date,
  secret = TEST_WEBHOOK_SECRET,
  id = `msg_${crypto.randomUUID().replace(/-/g, "")}`,
) {
  const signature = new Webhook(secret).sign(id, at, body);
  return {
    headers: { "svix-id": id, "svix-timestamp": String(Math.floor(at.getTime() / 1000)), "svix-signature": signature },
    body,
  };
}

async function lastDelivery(type: WebhookDelivery["type"]): Promise<WebhookDelivery> {
  const deliveries = await webhookDeliveries(type);
  const last = deliveries.at(-1);
  if (!last) throw new Error(`no ${type} delivery`);
  return last;
}

/**
 * Snapshot of what a webhook may change for a session: its revocation marker, and whether its
 * owner's cached list still holds it. (Freshness is checked through X-Cache instead: a list
 * refill from an earlier request may land in KV at any moment, coalesced up to a second.)
 */
async function state(sessionId: string) {
  const list = await kvJson<{ sessions: Array<{ id: string }> }>(kvKeys.activeSessions(alice.id));
  return {
    marker: await kvJson(kvKeys.revoked(sessionId)),
    listed: list?.sessions.some((s) => s.id === sessionId) ?? false,
  };
}

describe("signed session.ended/removed/revoked events revoke at once", () => {
  for (const status of ["revoked", "ended", "removed"] as const) {
    it(`session.${status}: marker written, list updated, token refused, no call to Clerk`, async () => {
      const device = await signIn("alice");
      const token = await freshToken(device.session_id);
      // Warm the list so the webhook's write-through is what removes the session.
      expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
      await setSessionStatus(device.session_id, status);
      const delivery = await lastDelivery(`session.${status}`);
      await clearCalls();

      const response = await deliver(delivery);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true, type: `session.${status}`, applied: true });
      expect(await kvJson(kvKeys.revoked(device.session_id))).toMatchObject({ status, source: "webhook" });
      const list = await kvJson<{ sessions: Array<{ id: string }> }>(kvKeys.activeSessions(alice.id));
      expect(list?.sessions.map((s) => s.id)).not.toContain(device.session_id);

      const refused = await call("/v1/me/sessions/active", { token });
      expect(refused.status).toBe(401);
      expect(await upstreamCalls()).toBe(0);
    });
  }
});

describe("signed session.created/pending events mark the user's list stale", () => {
  it("session.created: the next read goes to Clerk and includes the new session", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    expect((await call("/v1/me/sessions/active", { token })).headers.get("X-Cache")).toBe("MISS");
    expect((await call("/v1/me/sessions/active", { token })).headers.get("X-Cache")).toBe("HIT");
    const device = await signIn("alice");
    const response = await deliver(await lastDelivery("session.created"));
    expect(response.status).toBe(200);
    expect(await kvJson(kvKeys.activeSessions(alice.id))).toMatchObject({ stale: true });
    const next = await call("/v1/me/sessions/active", { token });
    expect(next.headers.get("X-Cache")).toBe("MISS");
    expect(((await next.json()) as Array<{ id: string }>).map((s) => s.id)).toContain(device.session_id);
  });

  it("session.pending: marked stale, and no revocation marker", async () => {
    const device = await signIn("alice");
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
    await setSessionStatus(device.session_id, "pending");
    expect((await deliver(await lastDelivery("session.pending"))).status).toBe(200);
    expect(await kvJson(kvKeys.activeSessions(alice.id))).toMatchObject({ stale: true });
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();
  });
});

describe("a replayed delivery is refused with 409 and changes nothing", () => {
  it("a second delivery of the same svix-id is 409 webhook_replayed, leaving KV as it was", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    await signIn("alice");
    const created = await lastDelivery("session.created");
    expect((await deliver(created)).status).toBe(200);
    // Refill the list: a replay that applied again would mark it stale once more.
    expect((await call("/v1/me/sessions/active", { token })).headers.get("X-Cache")).toBe("MISS");
    const before = await state(SEED.sessions.aliceDesktop.id);

    const replay = await deliver(created);
    expect(replay.status).toBe(409);
    expect((await errorBody(replay)).errors[0]?.code).toBe("webhook_replayed");
    expect(await state(SEED.sessions.aliceDesktop.id)).toEqual(before);
    expect((await call("/v1/me/sessions/active", { token })).headers.get("X-Cache")).toBe("HIT");
    expect(await kvJson(kvKeys.webhook(created.id))).toMatchObject({ type: "session.created" });
  });
});

describe("unverifiable deliveries are refused with 401 and change nothing", () => {
  async function expectRejected(delivery: Pick<WebhookDelivery, "headers" | "body">, sessionId: string) {
    const before = await state(sessionId);
    await clearCalls();
    const response = await deliver(delivery);
    expect(response.status).toBe(401);
    expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
    expect(await state(sessionId)).toEqual(before);
    expect(await kvJson(kvKeys.webhook(delivery.headers["svix-id"]))).toBeNull();
    expect(await upstreamCalls()).toBe(0);
  }

  it("refuses stale and future timestamps (outside ±5 minutes), however well signed", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "revoked");
    const { body } = await lastDelivery("session.revoked");
    await expectRejected(signed(body, new Date(Date.now() - 6 * 60_000)), device.session_id);
    await expectRejected(signed(body, new Date(Date.now() + 6 * 60_000)), device.session_id);
    // Inside the window (4 minutes old) the same event is accepted: the window is the only difference.
    expect((await deliver(signed(body, new Date(Date.now() - 4 * 60_000)))).status).toBe(200);
  });

  it("refuses bad signatures, another secret, a tampered body and missing headers", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "revoked");
    const genuine = await lastDelivery("session.revoked");
    // Signed in during this test, so no list an earlier test left behind can mention it.
    const bystander = await signIn("alice");
    const other = "whsec_c29tZU90aGVyU2VjcmV0S2V5MDEyMzQ1Njc4OQ==";
    await expectRejected(
      { ...genuine, headers: { ...genuine.headers, "svix-signature": "v1,AAAA" } },
      device.session_id,
    );
    await expectRejected(signed(genuine.body, new Date(), other), device.session_id);
    await expectRejected(
      { ...genuine, body: genuine.body.replace(device.session_id, bystander.session_id) },
      bystander.session_id,
    );
    await expectRejected({ ...genuine, body: `${genuine.body} ` }, device.session_id);
    const { "svix-signature": _s, ...unsigned } = genuine.headers;
    await expectRejected({ body: genuine.body, headers: unsigned as WebhookDelivery["headers"] }, device.session_id);
    // A rejected attempt does not burn the message id: the genuine delivery still applies.
    expect((await deliver(genuine)).status).toBe(200);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toMatchObject({ source: "webhook" });
  });

  it("accepts a header with several signatures when one of them matches (secret rotation)", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "ended");
    const genuine = await lastDelivery("session.ended");
    const both = `v1,${btoa("x".repeat(32))} ${genuine.headers["svix-signature"]}`;
    const none = `v1,${btoa("x".repeat(32))} v1,${btoa("y".repeat(32))}`;
    await expectRejected({ ...genuine, headers: { ...genuine.headers, "svix-signature": none } }, device.session_id);
    expect((await deliver(genuine, { "svix-signature": both })).status).toBe(200);
  });

  it("refuses a body over 256 KiB with 413 before verifying anything", async () => {
    const big = signed(JSON.stringify({ type: "session.revoked", pad: "x".repeat(300 * 1024) }), new Date());
    const response = await deliver(big);
    expect(response.status).toBe(413);
    expect((await errorBody(response)).errors[0]?.code).toBe("request_body_too_large");
  });
});

describe("verified events the gateway does not handle are acknowledged and ignored", () => {
  it("answers 200 applied:false for user.updated, changing no session state", async () => {
    const body = JSON.stringify({
      object: "event",
      type: "user.updated",
      timestamp: Date.now(),
      data: { id: alice.id },
    });
    const response = await deliver(signed(body, new Date()));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, type: "user.updated", applied: false });
    await clearWebhookDeliveries();
  });
});
