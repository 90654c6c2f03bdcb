import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { type SessionDirectory, UNSCOPED_OBJECT_NAME } from "../../src/revocation/session-directory";
import { kvKeys } from "../../src/storage/kv-schema";
import { TEST_WEBHOOK_SECRET } from "../support/config";
import { directoryObject } from "../support/directory";
import {
  clearCalls,
  freshToken,
  SEED,
  setSessionStatus,
  signIn,
  upstreamCalls,
  type WebhookDelivery,
  webhookDeliveries,
} from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";
import { type CallOptions, call, errorBody, kvJson } from "../support/gateway";
import { callB, callKvOnly, callWith } from "./locations";

/**
 * A webhook delivery is claimed before its event is applied: of any number of copies of one
 * signed delivery arriving at once (Svix retries, a replay attack, two locations), exactly one
 * is applied and answered 200, every other copy gets 409 and changes nothing.
 */

type Call = (path: string, options?: CallOptions) => Promise<Response>;

useFreshWorld();

function claims(objectName: string) {
  const stub = directoryObject(objectName);
  return runInDurableObject(stub, (_instance: SessionDirectory, state) => ({
    claims: state.storage.sql.exec("SELECT message_id, type FROM webhook_claims").toArray(),
    revoked: state.storage.sql.exec("SELECT session_id, source FROM revoked").toArray(),
  }));
}

async function lastDelivery(type: WebhookDelivery["type"]): Promise<WebhookDelivery> {
  const delivery = (await webhookDeliveries(type)).at(-1);
  if (!delivery) throw new Error(`no ${type} delivery`);
  return delivery;
}

/** Sends every copy at once, each through the gateway `via(i)` picks; returns the statuses and bodies. */
async function deliverConcurrently(
  delivery: Pick<WebhookDelivery, "headers" | "body">,
  copies: number,
  via: (i: number) => Call,
) {
  const responses = await Promise.all(
    Array.from({ length: copies }, (_, i) =>
      via(i)("/webhooks/clerk", {
        method: "POST",
        headers: { "content-type": "application/json", ...delivery.headers },
        body: delivery.body,
      }),
    ),
  );
  const statuses = responses.map((response) => response.status).sort();
  for (const response of responses) {
    if (response.status === 409) expect((await errorBody(response)).errors[0]?.code).toBe("webhook_replayed");
    else await response.body?.cancel();
  }
  return statuses;
}

const capture = captureConsole();

/** The gateway's `webhook_applied` log lines of the current test, in this isolate. */
const appliedLines = () => capture.json().filter((line) => line.msg === "webhook_applied");

const oneApplied = (copies: number) => [200, ...Array.from({ length: copies - 1 }, () => 409)];

describe("concurrent copies of one delivery: exactly one applied", () => {
  it("10 copies of session.revoked at once: one 200, nine 409, one claim and one revocation in the user's object", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "revoked");
    const delivery = await lastDelivery("session.revoked");
    await clearCalls();

    expect(await deliverConcurrently(delivery, 10, () => call)).toEqual(oneApplied(10));
    expect(appliedLines()).toHaveLength(1);
    expect(await claims(device.user_id)).toEqual({
      claims: [{ message_id: delivery.id, type: "session.revoked" }],
      revoked: [{ session_id: device.session_id, source: "webhook" }],
    });
    expect(await upstreamCalls()).toBe(0);
  });

  it("10 copies of session.created split over two locations: one 200, nine 409", async () => {
    await signIn("alice");
    const delivery = await lastDelivery("session.created");
    const statuses = await deliverConcurrently(delivery, 10, (i) => (i % 2 === 0 ? call : callB));
    expect(statuses).toEqual(oneApplied(10));
    expect((await claims(SEED.users.alice.id)).claims).toEqual([{ message_id: delivery.id, type: "session.created" }]);
  });

  it("a later copy (replay) after the first was applied: 409, and the revocation is not recorded twice", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "ended");
    const delivery = await lastDelivery("session.ended");
    expect(await deliverConcurrently(delivery, 1, () => call)).toEqual([200]);
    expect(await deliverConcurrently(delivery, 1, () => callB)).toEqual([409]);
    expect((await claims(device.user_id)).revoked).toHaveLength(1);
  });

  it("events without a user (user.updated) are claimed in one shared object: one 200, the rest 409", async () => {
    const body = JSON.stringify({
      object: "event",
      type: "user.updated",
      timestamp: Date.now(),
      data: { id: "user_x" },
    });
    const id = `msg_${crypto.randomUUID().replace(/-/g, "")}`;
    const at = new Date();
    const delivery = {
      headers: {
        "svix-id": id,
        "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
        "svix-signature": new Webhook(TEST_WEBHOOK_SECRET).sign(id, at, body),
      },
      body,
    };
    expect(await deliverConcurrently(delivery, 6, (i) => (i % 2 === 0 ? call : callB))).toEqual(oneApplied(6));
    expect((await claims(UNSCOPED_OBJECT_NAME)).claims).toEqual([{ message_id: id, type: "user.updated" }]);
  });
});

describe("without the SESSION_DIRECTORY binding (KV only)", () => {
  const kvOnly = callWith({ SESSION_DIRECTORY: undefined });

  it("10 copies at once in one isolate: one applied, nine 409, and the KV record written", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await setSessionStatus(device.session_id, "removed");
    const delivery = await lastDelivery("session.removed");

    expect(await deliverConcurrently(delivery, 10, () => kvOnly)).toEqual(oneApplied(10));
    expect(appliedLines()).toHaveLength(1);
    expect(await kvJson(kvKeys.webhook(delivery.id))).toMatchObject({ type: "session.removed" });
    expect(await kvJson(kvKeys.revoked(device.session_id))).toMatchObject({ status: "removed", source: "webhook" });
    expect((await kvOnly("/v1/me/sessions/active", { token })).status).toBe(401);
    // Nothing went to an object.
    expect(await claims(device.user_id)).toEqual({ claims: [], revoked: [] });
  });

  it("a replay reaching another isolate later is refused from the KV record", async () => {
    await signIn("alice");
    const delivery = await lastDelivery("session.created");
    expect(await deliverConcurrently(delivery, 1, () => kvOnly)).toEqual([200]);
    expect(await deliverConcurrently(delivery, 1, () => callKvOnly)).toEqual([409]);
  });
});
