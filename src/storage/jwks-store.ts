import type { Jwks } from "../clerk/schemas";
import { now } from "../core/clock";
import { JWKS_TTL_SECONDS, JwksEntry, kvKeys, readEntry } from "./kv-schema";
import { writeCoalesced } from "./kv-writer";

/** Clerk's signing keys in KV, shared by every isolate of the gateway; keyed by Backend-API origin. */
async function keyFor(apiUrl: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(apiUrl));
  const hex = [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return kvKeys.jwks(hex);
}

export async function readStoredJwks(kv: KVNamespace, apiUrl: string): Promise<JwksEntry | null> {
  return readEntry(kv, await keyFor(apiUrl), JwksEntry);
}

export async function storeJwks(kv: KVNamespace, apiUrl: string, jwks: Jwks): Promise<void> {
  const entry: JwksEntry = { fetched_at: now(), keys: jwks.keys };
  await writeCoalesced(kv, await keyFor(apiUrl), JSON.stringify(entry), JWKS_TTL_SECONDS);
}
