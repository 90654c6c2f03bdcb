/**
 * `clerk-session-gateway/hono/webhooks`: `verifyWebhook(c, options?)` as `@clerk/hono/webhooks`
 * exports it (same signature, same event, same errors), which also records what a verified
 * event tells the gateway: a session ended (`session.ended`, `session.removed`,
 * `session.revoked`) is refused from then on by `clerkMiddleware()` and every gateway sharing
 * the KV namespace and Durable Objects, and a session created or pending makes its user's cached
 * list be read again, as the mounted gateway's `/webhooks/clerk` does. Types are
 * `@clerk/backend/webhooks`' (an optional peer, types only); verification is Standard Webhooks',
 * the implementation `@clerk/backend` uses.
 */
import type { WebhookEvent } from "@clerk/backend/webhooks";
import type { Context } from "hono";
import { loadConfig } from "../config/settings";
import { SESSION_ID, USER_ID } from "../core/ids";
import { log } from "../core/log";
import { waitUntilOf } from "../core/wait-until";
import { verifyWebhookSignature } from "../core/webhook-signature";
import { markRevoked } from "../revocation/revocations";
import { SessionCache } from "../sessions/session-cache";
import { type GatewayOptions, gatewayEnv } from "./bindings";

export type * from "@clerk/backend/webhooks";

export type VerifyWebhookOptions = {
  /** Defaults to CLERK_WEBHOOK_SIGNING_SECRET, from the Worker's environment. */
  signingSecret?: string;
  /** Where the gateway's state lives, when the app binds it under other names (as `clerkMiddleware({ bindings })`). */
  bindings?: GatewayOptions["bindings"];
};

const ENDED = new Set(["session.ended", "session.removed", "session.revoked"]);
const CHANGED = new Set(["session.created", "session.pending"]);

/**
 * Messages as `@clerk/backend`'s verifyWebhook words them, prefix included, so an app that
 * shows or matches them sees the same text after moving over.
 */
const fail = (message: string): never => {
  throw new Error(`@clerk/backend: ${message}`);
};

/**
 * Verifies a Clerk webhook (Svix headers, the raw body, ±5 min) and returns its event; throws
 * when it cannot be verified. A verified session event is recorded before it is returned: when
 * recording fails (the user's SessionDirectory unreachable), it throws, so the delivery fails
 * and Clerk sends it again.
 */
export async function verifyWebhook(c: Context, options: VerifyWebhookOptions = {}): Promise<WebhookEvent> {
  const secret = options.signingSecret ?? secretFromEnvironment(c);
  if (!secret) {
    fail(
      "Missing webhook signing secret. Set the CLERK_WEBHOOK_SIGNING_SECRET environment variable with the webhook secret from the Clerk Dashboard.",
    );
  }
  const id = c.req.header("svix-id")?.trim();
  const timestamp = c.req.header("svix-timestamp")?.trim();
  const signature = c.req.header("svix-signature")?.trim();
  if (!id || !timestamp || !signature) {
    const missing = [!id && "svix-id", !timestamp && "svix-timestamp", !signature && "svix-signature"].filter(Boolean);
    fail(`Missing required webhook headers: ${missing.join(", ")}`);
  }
  const body = await c.req.text();
  let payload: Record<string, unknown>;
  try {
    payload = (await verifyWebhookSignature(secret as string, body, {
      id: id as string,
      timestamp: timestamp as string,
      signature: signature as string,
    })) as Record<string, unknown>;
  } catch (error) {
    return fail(`Unable to verify incoming webhook: ${error instanceof Error ? error.message : "Unknown error"}`);
  }
  const event = {
    type: payload.type,
    object: "event",
    data: payload.data,
    event_attributes: payload.event_attributes,
    timestamp: payload.timestamp,
    instance_id: payload.instance_id,
  } as WebhookEvent;
  await record(c, event, options);
  return event;
}

/** Hono's environment first (a Worker's bindings), then `process.env` where there is one, as Clerk's reads it. */
function secretFromEnvironment(c: Context): string | undefined {
  const fromEnv = (c.env as Record<string, unknown> | undefined)?.CLERK_WEBHOOK_SIGNING_SECRET;
  if (typeof fromEnv === "string" && fromEnv) return fromEnv;
  const processEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return processEnv?.CLERK_WEBHOOK_SIGNING_SECRET || undefined;
}

async function record(c: Context, event: WebhookEvent, options: VerifyWebhookOptions): Promise<void> {
  const type = String(event.type);
  if (!ENDED.has(type) && !CHANGED.has(type)) return;
  const data = event.data as { id?: unknown; user_id?: unknown; status?: unknown } | undefined;
  const sessionId = typeof data?.id === "string" && SESSION_ID.test(data.id) ? data.id : undefined;
  const userId = typeof data?.user_id === "string" && USER_ID.test(data.user_id) ? data.user_id : undefined;
  const status = typeof data?.status === "string" ? data.status : undefined;
  if (!sessionId || !userId || !status) return;
  const env = gatewayEnv(c.env, { bindings: options.bindings ?? {} });
  const config = loadConfig(env);
  const cache = new SessionCache(env.SESSION_CACHE, {
    freshSeconds: config.sessionCacheTtlSeconds,
    staleSeconds: config.sessionCacheStaleSeconds,
    waitUntil: waitUntilOf(c),
  });
  const listed = ENDED.has(type) ? cache.removeSession(userId, sessionId) : cache.invalidate(userId);
  const listUpdated = listed.catch((error) =>
    // The revocation below is what refuses the session; a stale list is only a log line.
    log("error", { msg: "cache_write_failed", user_id: userId, error: String(error) }),
  );
  if (ENDED.has(type) && status !== "active" && status !== "pending") {
    await markRevoked(env, userId, sessionId, status, "webhook");
  }
  await listUpdated;
  log("info", { msg: "webhook_applied", via: "verifyWebhook", type, session_id: sessionId, user_id: userId });
}
