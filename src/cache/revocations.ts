import { kvKeys, REVOCATION_TTL_SECONDS, type RevocationEntry } from "./kv-schema";
import { queuedValue, writeCoalesced } from "./kv-writer";
import { fixedBytes, isolateMap, REVOCATION_NEGATIVE_MEMORY_MS } from "./memory";

/**
 * @module
 * Sessions the gateway must refuse even though their tokens still verify (Clerk keeps a
 * revoked session's token valid for up to 60 s). Kept twice: in this isolate's memory,
 * which is exact at once, and in KV, which other isolates and locations read.
 */
const revokedHere = isolateMap<string, true>("revokedHere", fixedBytes(1));
/** Session ids with no revocation marker in KV at the time of the lookup. */
const notRevokedMemory = isolateMap<string, true>("notRevoked", fixedBytes(1));
/**
 * KV caches reads at each location (60 s by default), including "not found": an isolate that
 * checked a session before it was revoked elsewhere could keep seeing no marker that long.
 * 30 s is KV's minimum, so a marker written anywhere is seen everywhere within about 30 s of
 * reaching KV's central store (KV documents up to 60 s in all).
 */
export const REVOCATION_READ_CACHE_TTL_SECONDS = 30;

export type RevocationSource = RevocationEntry["source"];

export async function markRevoked(
  kv: KVNamespace,
  sessionId: string,
  status: string,
  source: RevocationSource,
): Promise<void> {
  rememberRevoked(sessionId);
  const entry: RevocationEntry = { revoked_at: Date.now(), status, source };
  await writeCoalesced(kv, kvKeys.revoked(sessionId), JSON.stringify(entry), REVOCATION_TTL_SECONDS);
}

/** True when this isolate knows of the revocation: no I/O. */
export function isRevokedHere(sessionId: string): boolean {
  return revokedHere.has(sessionId);
}

export async function isRevoked(kv: KVNamespace, sessionId: string): Promise<boolean> {
  if (isRevokedHere(sessionId)) return true;
  const key = kvKeys.revoked(sessionId);
  if (typeof queuedValue(key) === "string") return true;
  // "Not revoked" is believed for REVOCATION_NEGATIVE_MEMORY_MS (1 s): the bound it adds to a revocation made elsewhere.
  if (notRevokedMemory.get(sessionId)) return false;
  let raw: unknown;
  try {
    raw = await kv.get(key, { type: "text", cacheTtl: REVOCATION_READ_CACHE_TTL_SECONDS });
  } catch {
    // KV unreachable: this isolate's memory is all there is (docs/security.md); nothing is remembered.
    return false;
  }
  // Any marker counts, even one that no longer parses: refusing is the safe side of a revocation.
  const revoked = raw !== null;
  if (revoked) rememberRevoked(sessionId);
  else notRevokedMemory.set(sessionId, true, REVOCATION_NEGATIVE_MEMORY_MS);
  return revoked;
}

function rememberRevoked(sessionId: string) {
  notRevokedMemory.delete(sessionId);
  revokedHere.set(sessionId, true, REVOCATION_TTL_SECONDS * 1000);
}
