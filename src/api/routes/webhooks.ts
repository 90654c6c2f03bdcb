import { Hono } from "hono";
import * as z from "zod/mini";
import { ApiError, unauthenticated } from "../../core/errors";
import { SESSION_ID, USER_ID } from "../../core/ids";
import { log } from "../../core/log";
import { keepAlive } from "../../core/wait-until";
import { verifyWebhookSignature, WebhookVerificationError } from "../../core/webhook-signature";
import type { AppEnv } from "../../http/app-env";
import { claimWebhook, recordApplied, releaseClaim } from "../../revocation/webhook-claims";

/**
 * `POST /webhooks/clerk`: Clerk's session events, signed by Svix. The signature is
 * checked on the raw body with the Standard Webhooks implementation Clerk's own SDK
 * uses (constant-time compare, ±5 min tolerance, several signatures per header);
 * a replayed message id, a stale timestamp or a bad signature changes nothing.
 */
export const webhooks = new Hono<AppEnv>();

const SvixHeaders = z.object({
  "svix-id": z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/)),
  "svix-timestamp": z.string().check(z.regex(/^\d{1,12}$/)),
  "svix-signature": z.string().check(z.minLength(1), z.maxLength(4_096)),
});

const EventType = z.looseObject({ type: z.string().check(z.maxLength(128)) });
const SessionEvent = z.looseObject({
  type: z.string(),
  data: z.looseObject({
    id: z.string().check(z.regex(SESSION_ID)),
    user_id: z.string().check(z.regex(USER_ID)),
    status: z.string(),
  }),
});

const ENDED = new Set(["session.ended", "session.removed", "session.revoked"]);
const CHANGED = new Set(["session.created", "session.pending"]);

webhooks.post("/clerk", async (c) => {
  // Checked here, not at startup: a missing or bad webhook secret fails only this route.
  const secret = c.var.config.webhookSecret();

  const headers = z.safeParse(SvixHeaders, {
    "svix-id": c.req.header("svix-id"),
    "svix-timestamp": c.req.header("svix-timestamp"),
    "svix-signature": c.req.header("svix-signature"),
  });
  if (!headers.success) throw unauthenticated("Missing or malformed Svix signature headers");
  const raw = await c.req.text();
  const messageId = headers.data["svix-id"];

  let payload: unknown;
  try {
    payload = await verifyWebhookSignature(secret, raw, {
      id: messageId,
      timestamp: headers.data["svix-timestamp"],
      signature: headers.data["svix-signature"],
    });
  } catch (error) {
    if (error instanceof WebhookVerificationError || error instanceof SyntaxError) {
      c.var.metrics.authFailure = `webhook_${error.message.replace(/\W+/g, "_").toLowerCase()}`;
      throw unauthenticated("The webhook signature could not be verified");
    }
    throw error;
  }

  const type = z.safeParse(EventType, payload).data?.type ?? "unknown";
  const event = z.safeParse(SessionEvent, payload);
  const session = event.success && (ENDED.has(type) || CHANGED.has(type)) ? event.data.data : undefined;
  const ended = session && ENDED.has(type) && session.status !== "active" && session.status !== "pending";

  // Claimed before anything is applied: of concurrent copies exactly one gets past here. With
  // the directory, an ended session's revocation is recorded in the same step as the claim.
  const claimed = await claimWebhook(c.env, {
    messageId,
    type,
    userId: session?.user_id,
    ...(session && ended ? { ended: { sessionId: session.id, status: session.status } } : {}),
  });
  if (!claimed) {
    // An earlier copy was claimed, but its answer may have been a 503 after the claim (the
    // revocation log could not take the append): the ended session is recorded again (every
    // step is idempotent) so a retried delivery completes what the first one could not.
    if (session && ended) {
      await c.var.sessions.recordEnded(session.user_id, session.id, session.status, "webhook", { inDirectory: true });
    }
    throw new ApiError(409, [
      {
        code: "webhook_replayed",
        message: "Already processed",
        long_message: `Message ${messageId} was already applied`,
      },
    ]);
  }

  try {
    if (session) {
      const { id, user_id, status } = session;
      if (ENDED.has(type)) {
        await c.var.sessions.recordEnded(user_id, id, status, "webhook", { inDirectory: true });
      } else {
        c.var.sessions.invalidateUser(user_id);
      }
      log("info", { msg: "webhook_applied", request_id: c.var.requestId, type, session_id: id, user_id });
    }
  } catch (error) {
    releaseClaim(messageId);
    throw error;
  }
  // The claim above is what refuses copies; this record is the claim's trace in KV (and, without
  // the directory, the claim other isolates read). The event is applied already: the record is
  // written off the response path, and a failed write is logged.
  keepAlive(
    recordApplied(c.env.SESSION_CACHE, messageId, type).catch((error) =>
      log("warn", { msg: "webhook_record_failed", message_id: messageId, error: String(error) }),
    ),
  );
  return c.json({ received: true, type, applied: session !== undefined });
});
