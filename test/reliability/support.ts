import { env } from "cloudflare:workers";
import { createApp } from "../../src/app";
import { kvKeys } from "../../src/cache/kv-schema";
import type { Bindings } from "../../src/env";
import { type CallOptions, gatewayRequest } from "../support/gateway";

/**
 * The gateway with a short upstream timeout, so a hanging Clerk costs a test a few hundred
 * milliseconds instead of seconds. One bindings object, so the parsed configuration is cached.
 */
export const FAST_TIMEOUT_MS = 200;
const fastBindings = { ...(env as unknown as Bindings), UPSTREAM_TIMEOUT_MS: String(FAST_TIMEOUT_MS) } as Bindings;
const app = createApp();

export function gw(path: string, options: CallOptions = {}): Promise<Response> {
  return Promise.resolve(app.request(gatewayRequest(path, options), undefined, fastBindings));
}

/** Puts an active-session list in KV as if the gateway had fetched it `ageSeconds` ago. */
export async function seedCachedList(userId: string, sessions: unknown[], ageSeconds: number): Promise<void> {
  const entry = { fetched_at: Date.now() - ageSeconds * 1000, sessions };
  await env.SESSION_CACHE.put(kvKeys.activeSessions(userId), JSON.stringify(entry), { expirationTtl: 86_400 });
}
