import { env } from "cloudflare:workers";
import { createApp } from "../../src/api/app";
import { registeredMap } from "../../src/core/isolate-memory";
import type { Bindings } from "../../src/http/app-env";
import { kvKeys } from "../../src/storage/kv-schema";
import { settled } from "../../src/storage/kv-writer";
import { emulatorCalls, SEED, type SignedIn, signIn } from "../support/emulator";
import { type CallOptions, call, gatewayRequest } from "../support/gateway";

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

/** Upstream list calls Clerk received for one user (the cache's only upstream read). */
export async function listCalls(userId: string): Promise<number> {
  const calls = await emulatorCalls({ method: "GET", path: "/v1/sessions" });
  return calls.filter((c) => new URLSearchParams(c.search).get("user_id") === userId).length;
}

/**
 * carol signed in, the JWKS warm (so the only upstream calls left are list calls) and her cached
 * list gone: the next reads of her sessions all miss.
 */
export async function carolWithColdList(): Promise<{ carol: string; reader: SignedIn }> {
  const carol = SEED.users.carol.id;
  const reader = await signIn("carol");
  const warm = await call(`/v1/sessions/${reader.session_id}`, { token: reader.token });
  if (warm.status !== 200) throw new Error(`warming the JWKS answered ${warm.status}`);
  await settled();
  // Cold everywhere: not in KV, and not in this isolate's memory of the list it just wrote.
  await env.SESSION_CACHE.delete(kvKeys.activeSessions(carol));
  registeredMap("sessionLists")?.clear();
  return { carol, reader };
}
