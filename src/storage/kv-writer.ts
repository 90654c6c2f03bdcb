/**
 * @module
 * Coalesces writes per key inside this isolate: KV accepts one write per second per key,
 * so a burst of changes to one key becomes one write of the latest value. Reads in this
 * isolate see a queued value at once (read-your-writes), before KV has it.
 */

import { now, sleep } from "../core/clock";
import { fixedBytes, isolateMap } from "../core/isolate-memory";
import { joinWithin, SHARED_WORK_PATIENCE_MS } from "../core/single-flight";
import { KV_MIN_TTL_SECONDS, KV_MIN_WRITE_INTERVAL_MS } from "./kv-schema";

type Slot = { value: string | null; ttl: number; done: Promise<void> };

const slotBytes = (slot: Slot) => (slot.value?.length ?? 0) + 32;
/**
 * Per key: the write waiting for its turn (still absorbing newer values) … A slot evicted
 * by the registry's bounds is still written; only reading it back here before KV has it is lost.
 */
const queued = isolateMap<string, Slot>("kvQueued", slotBytes);
/** … and the write KV is processing now. Until KV has accepted it, readers here must see it, not KV's older value. */
const writing = isolateMap<string, Slot>("kvWriting", slotBytes);
/** Only the last second matters for the pacing, so entries expire after it (both on the gateway's clock). */
const lastWriteAt = isolateMap<string, number>("kvLastWrite", fixedBytes(8));

/** Queues `value` (or a delete, for null) for `key`; resolves once KV has accepted it (or a newer value). */
export function writeCoalesced(kv: KVNamespace, key: string, value: string | null, ttlSeconds: number): Promise<void> {
  const ttl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds));
  const waiting = queued.get(key);
  if (waiting) {
    waiting.value = value;
    waiting.ttl = ttl;
    // Re-inserted so the registry counts the new value's bytes.
    queued.set(key, waiting);
    return joinOrWrite(kv, key, waiting);
  }
  // One write per key at a time, at most one per KV_MIN_WRITE_INTERVAL_MS: a new value waits
  // behind the write in progress, and every value that arrives meanwhile replaces it.
  const previous = writing.get(key)?.done;
  const slot: Slot = { value, ttl, done: Promise.resolve() };
  queued.set(key, slot);
  slot.done = (async () => {
    // The write in progress may belong to a request that is gone (src/core/single-flight.ts).
    if (previous) await joinWithin(previous, KV_MIN_WRITE_INTERVAL_MS + SHARED_WORK_PATIENCE_MS).catch(() => undefined);
    const wait = Math.max(0, (lastWriteAt.get(key) ?? 0) + KV_MIN_WRITE_INTERVAL_MS - now());
    if (wait > 0) await sleep(wait);
    await writeNow(kv, key, slot);
  })();
  return slot.done;
}

/**
 * A later value joins the queued write, which runs in the request that queued it (its timer, its
 * KV call). If that request is gone, the write never happens (src/core/single-flight.ts): after the
 * pacing interval plus SHARED_WORK_PATIENCE_MS this request writes the latest value itself.
 */
async function joinOrWrite(kv: KVNamespace, key: string, slot: Slot): Promise<void> {
  if (await joinWithin(slot.done, KV_MIN_WRITE_INTERVAL_MS + SHARED_WORK_PATIENCE_MS)) return;
  await writeNow(kv, key, slot);
}

/** Moves the slot from queued to writing, stamps the pacing clock, and hands its value to KV. */
async function writeNow(kv: KVNamespace, key: string, slot: Slot): Promise<void> {
  queued.deleteIf(key, slot);
  writing.set(key, slot);
  lastWriteAt.set(key, now(), KV_MIN_WRITE_INTERVAL_MS);
  try {
    if (slot.value === null) await kv.delete(key);
    else await kv.put(key, slot.value, { expirationTtl: slot.ttl });
  } finally {
    writing.deleteIf(key, slot);
  }
}

/** The value queued or being written for `key` in this isolate: a string, null for a delete, undefined if none. */
export function queuedValue(key: string): string | null | undefined {
  return (queued.get(key) ?? writing.get(key))?.value;
}

/** Resolves once every write queued in this isolate so far has been accepted or has failed (tests, shutdown). */
export async function settled(): Promise<void> {
  await Promise.allSettled([...queued.values(), ...writing.values()].map((slot) => slot.done));
}
