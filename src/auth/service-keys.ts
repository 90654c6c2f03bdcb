/**
 * @module
 * Service keys are compared in constant time: both sides are hashed to equal-length
 * digests first, so neither content nor length leaks through timing, and every
 * configured key is checked whatever matched before it.
 */
import { isolateMap } from "../core/isolate-memory";

const encoder = new TextEncoder();
/** Per parsed key list (one per configuration): a 32-byte digest per key. */
const digestCache = isolateMap<readonly string[], Promise<ArrayBuffer[]>>(
  "serviceKeyDigests",
  (_digests, keys) => 32 * keys.length,
);

const sha256 = (value: string) => crypto.subtle.digest("SHA-256", encoder.encode(value));

function configuredDigests(keys: readonly string[]): Promise<ArrayBuffer[]> {
  let digests = digestCache.get(keys);
  if (!digests) {
    digests = Promise.all(keys.map(sha256));
    digestCache.set(keys, digests);
  }
  return digests;
}

/** Index of the matching key in `keys`, or -1. */
export async function matchServiceKey(candidate: string, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return -1;
  const [digest, digests] = await Promise.all([sha256(candidate), configuredDigests(keys)]);
  let match = -1;
  digests.forEach((known, index) => {
    if (crypto.subtle.timingSafeEqual(digest, known) && match === -1) match = index;
  });
  return match;
}
