import { WebhookVerificationError as TheirError, Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyWebhookSignature, WebhookVerificationError } from "../../src/core/webhook-signature";

/**
 * Differential: every delivery put to the gateway's verifier and to the `standardwebhooks`
 * package (what the emulator signs with, and what `@clerk/backend` uses), with the same answer:
 * the same payload, or a refusal with the same message.
 */
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER = "whsec_c2VjcmV0LW9mLWFub3RoZXItaW5zdGFuY2U=";
const now = Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: "session.revoked", data: { id: "sess_1", user_id: "user_1", status: "revoked" } });
const sign = (secret: string, id: string, ts: number, payload: string) =>
  new Webhook(secret).sign(id, new Date(ts * 1000), payload);

async function both(payload: string, headers: { id: string; timestamp: string; signature: string }) {
  const ours = await verifyWebhookSignature(SECRET, payload, headers).then(
    (value) => ({ ok: value }),
    (error: Error) => ({ error: error instanceof WebhookVerificationError ? error.message : error.name }),
  );
  let theirs: { ok: unknown } | { error: string };
  try {
    theirs = {
      ok: new Webhook(SECRET).verify(payload, {
        "webhook-id": headers.id,
        "webhook-timestamp": headers.timestamp,
        "webhook-signature": headers.signature,
      }),
    };
  } catch (error) {
    theirs = { error: error instanceof TheirError ? error.message : (error as Error).name };
  }
  return { ours, theirs };
}

describe("verifyWebhookSignature answers as standardwebhooks does", () => {
  const good = sign(SECRET, "msg_1", now, body);
  it.each([
    ["a valid delivery", "msg_1", now, good, body],
    ["one of several signatures valid", "msg_1", now, `v1,AAAA ${good} v2,xyz`, body],
    ["a tampered body", "msg_1", now, good, body.replace("revoked", "active")],
    ["another message id", "msg_2", now, good, body],
    ["another instance's secret", "msg_1", now, sign(OTHER, "msg_1", now, body), body],
    ["a timestamp 6 minutes old", "msg_1", now - 360, sign(SECRET, "msg_1", now - 360, body), body],
    ["a timestamp 6 minutes ahead", "msg_1", now + 360, sign(SECRET, "msg_1", now + 360, body), body],
    ["a timestamp 4 minutes old", "msg_1", now - 240, sign(SECRET, "msg_1", now - 240, body), body],
    ["no v1 signature", "msg_1", now, good.replace("v1,", "v2,"), body],
    ["a signature that is not base64", "msg_1", now, "v1,!!!not-base64!!!", body],
    ["a signed body that is not JSON", "msg_1", now, sign(SECRET, "msg_1", now, "not json"), "not json"],
    ["an empty signed body", "msg_1", now, sign(SECRET, "msg_1", now, ""), ""],
  ] as const)("%s", async (_name, id, ts, signature, payload) => {
    const { ours, theirs } = await both(payload, { id, timestamp: String(ts), signature });
    expect(ours).toEqual(theirs);
  });

  it.each([
    ["no id", { id: "", timestamp: String(now), signature: good }],
    ["no timestamp", { id: "msg_1", timestamp: "", signature: good }],
    ["a timestamp that is not a number", { id: "msg_1", timestamp: "soon", signature: good }],
  ])("%s", async (_name, headers) => {
    const { ours, theirs } = await both(body, headers);
    expect(ours).toEqual(theirs);
    expect(ours).toHaveProperty("error");
  });
});
