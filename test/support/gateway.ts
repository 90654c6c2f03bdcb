import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { ClerkErrorEnvelope } from "../../src/core/errors";
import worker from "../../src/index";
import { TEST_SERVICE_KEYS } from "./config";
import { type WebhookDelivery, webhookDeliveries } from "./emulator";

/** The gateway under test, reached in-process through its default export (no network). */
export const GATEWAY_ORIGIN = "https://gateway.test";

export type CallOptions = RequestInit & {
  /** A session token, sent as `Authorization: Bearer …`. */
  token?: string;
  /** A service key, sent as `Authorization: Bearer …`. */
  serviceKey?: string;
  /** A session token sent as the `__session` cookie instead. */
  cookie?: string;
  json?: unknown;
};

export function gatewayRequest(path: string, options: CallOptions = {}): Request {
  const { token, serviceKey, cookie, json, ...init } = options;
  const headers = new Headers(init.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (serviceKey) headers.set("Authorization", `Bearer ${serviceKey}`);
  if (cookie) headers.set("Cookie", `__session=${cookie}`);
  if (json !== undefined) headers.set("Content-Type", "application/json");
  return new Request(new URL(path, GATEWAY_ORIGIN), {
    ...init,
    headers,
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
}

export function call(path: string, options: CallOptions = {}): Promise<Response> {
  return exports.default.fetch(gatewayRequest(path, options));
}

/**
 * The gateway run with other bindings (a setting changed, a rate limiter of the test's own),
 * its background work (waitUntil) finished before the response is returned.
 */
export async function callWith(path: string, options: CallOptions, bindings: object): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(gatewayRequest(path, options), bindings as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export const SERVICE_KEY = TEST_SERVICE_KEYS[0];

/** A token for `sessionId` that a service minted through the gateway, lasting `seconds` (`expires_in_seconds`). */
export async function serviceMintedToken(
  sessionId: string,
  seconds: number,
  send: (path: string, options: CallOptions) => Promise<Response> = call,
): Promise<string> {
  const minted = await send(`/v1/sessions/${sessionId}/tokens`, {
    method: "POST",
    serviceKey: SERVICE_KEY,
    json: { expires_in_seconds: seconds },
  });
  if (minted.status !== 200) throw new Error(`minting a ${seconds} s token answered ${minted.status}`);
  return ((await minted.json()) as { jwt: string }).jwt;
}

/** Reads a KV entry the gateway wrote (see docs/kv-schema.md). */
export async function kvJson<T = unknown>(key: string): Promise<T | null> {
  return (await env.SESSION_CACHE.get(key, "json")) as T | null;
}

/** Asserts Clerk's error envelope and returns it. */
export async function errorBody(response: Response): Promise<ClerkErrorEnvelope> {
  const body = (await response.json()) as ClerkErrorEnvelope;
  if (!Array.isArray(body.errors) || body.errors.length === 0) {
    throw new Error(`not a Clerk error envelope: ${JSON.stringify(body)}`);
  }
  for (const error of body.errors) {
    if (typeof error.code !== "string" || typeof error.message !== "string" || typeof error.long_message !== "string") {
      throw new Error(`malformed Clerk error: ${JSON.stringify(error)}`);
    }
  }
  return body;
}

/** Clerk's latest `type` webhook (the emulator's outbox), delivered to the gateway through `via` as Svix would. */
export async function deliverLatestWebhook(
  type: WebhookDelivery["type"],
  via: (path: string, options: CallOptions) => Promise<Response> = call,
): Promise<Response> {
  const delivery = (await webhookDeliveries(type)).at(-1);
  if (!delivery) throw new Error(`no ${type} delivery`);
  return via("/webhooks/clerk", { method: "POST", headers: delivery.headers, body: delivery.body });
}
