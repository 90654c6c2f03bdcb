/**
 * Outgoing session events, signed the way Clerk signs them (Svix: HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the base64 secret after `whsec_`), via the same
 * `standardwebhooks` library @clerk/backend verifies with.
 *
 * Every event goes to an in-memory outbox (`GET /__emulator/webhooks`); when WEBHOOK_URL is
 * set it is also POSTed there in the background, and delivery errors are only logged,
 * as a webhook sender must never fail the API call that caused the event.
 */
import { Webhook } from "standardwebhooks";
import type { RequestContext } from "./context";
import { randomId } from "./ids";
import type { SessionEventType, WebhookSessionJSON } from "./types";

export interface WebhookEvent {
  object: "event";
  type: SessionEventType;
  timestamp: number;
  instance_id: string;
  data: WebhookSessionJSON;
  event_attributes: { http_request: { client_ip: string; user_agent: string } };
}

export interface WebhookDelivery {
  id: string;
  type: SessionEventType;
  headers: { "svix-id": string; "svix-timestamp": string; "svix-signature": string };
  /** The payload exactly as signed. */
  body: string;
  /** Outcome of the POST to WEBHOOK_URL; null when no URL is configured. */
  delivery: { url: string; status: number | null; error: string | null } | null;
}

let outbox: WebhookDelivery[] = [];
const signers = new Map<string, Webhook>();

function signer(secret: string): Webhook {
  let wh = signers.get(secret);
  if (!wh) {
    // standardwebhooks strips the `whsec_` prefix itself and base64-decodes the rest.
    wh = new Webhook(secret);
    signers.set(secret, wh);
  }
  return wh;
}

/** Builds, signs and records one event; delivers it to WEBHOOK_URL in the background. */
export function publishSessionEvent(
  rc: RequestContext,
  type: SessionEventType,
  data: WebhookSessionJSON,
): WebhookDelivery {
  const now = new Date();
  const event: WebhookEvent = {
    object: "event",
    type,
    // Clerk's docs give event timestamps in milliseconds.
    timestamp: now.getTime(),
    instance_id: rc.config.instanceId,
    data,
    event_attributes: { http_request: { client_ip: rc.clientIp, user_agent: rc.userAgent } },
  };
  const body = JSON.stringify(event);
  const id = randomId("msg");
  const signature = signer(rc.config.webhookSecret).sign(id, now, body);
  const delivery: WebhookDelivery = {
    id,
    type,
    headers: {
      "svix-id": id,
      "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
      "svix-signature": signature,
    },
    body,
    delivery: null,
  };
  outbox.push(delivery);
  const url = rc.config.webhookUrl;
  if (url) {
    const outcome = { url, status: null as number | null, error: null as string | null };
    delivery.delivery = outcome;
    rc.waitUntil(
      fetch(url, {
        method: "POST",
        headers: { ...delivery.headers, "content-type": "application/json", "user-agent": "Svix-Webhooks/1.0" },
        body,
      })
        .then(async (res) => {
          outcome.status = res.status;
          await res.body?.cancel();
          if (!res.ok) console.warn(`webhook ${type} ${id} → ${url}: HTTP ${res.status}`);
        })
        .catch((err: unknown) => {
          outcome.error = err instanceof Error ? err.message : String(err);
          console.warn(`webhook ${type} ${id} → ${url} failed: ${outcome.error}`);
        }),
    );
  }
  return delivery;
}

export function deliveries(): WebhookDelivery[] {
  return outbox;
}

export function clearDeliveries(): void {
  outbox = [];
}
