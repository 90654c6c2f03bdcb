import { KV_MIN_TTL_SECONDS, KV_MIN_WRITE_INTERVAL_MS } from "./kv-schema";

/**
 * Coalesces writes per key inside this isolate: KV accepts one write per second per key,
 * so a burst of changes to one key becomes one write of the latest value. Reads in this
 * isolate see a queued value at once (read-your-writes), before KV has it.
 */
type Slot = { value: string | null; ttl: number; done: Promise<void> };

/** Per key: the write waiting for its turn (still absorbing newer values) … */
const queued = new Map<string, Slot>();
/** … and the write KV is processing now. Until KV has accepted it, readers here must see it, not KV's older value. */
const writing = new Map<string, Slot>();
const lastWriteAt = new Map<string, number>();
const MAX_TRACKED_KEYS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Queues `value` (or a delete, for null) for `key`; resolves once KV has accepted it (or a newer value). */
export function writeCoalesced(kv: KVNamespace, key: string, value: string | null, ttlSeconds: number): Promise<void> {
  const ttl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds));
  const waiting = queued.get(key);
  if (waiting) {
    waiting.value = value;
    waiting.ttl = ttl;
    return waiting.done;
  }
  // One write per key at a time, at most one per KV_MIN_WRITE_INTERVAL_MS: a new value waits
  // behind the write in progress, and every value that arrives meanwhile replaces it.
  const previous = writing.get(key)?.done;
  const slot: Slot = { value, ttl, done: Promise.resolve() };
  queued.set(key, slot);
  slot.done = (async () => {
    if (previous) await previous.catch(() => undefined);
    const wait = Math.max(0, (lastWriteAt.get(key) ?? 0) + KV_MIN_WRITE_INTERVAL_MS - Date.now());
    if (wait > 0) await sleep(wait);
    queued.delete(key);
    writing.set(key, slot);
    remember(key);
    try {
      if (slot.value === null) await kv.delete(key);
      else await kv.put(key, slot.value, { expirationTtl: slot.ttl });
    } finally {
      if (writing.get(key) === slot) writing.delete(key);
    }
  })();
  return slot.done;
}

/** The value queued or being written for `key` in this isolate: a string, null for a delete, undefined if none. */
export function queuedValue(key: string): string | null | undefined {
  return (queued.get(key) ?? writing.get(key))?.value;
}

function remember(key: string) {
  if (lastWriteAt.size >= MAX_TRACKED_KEYS) {
    const cutoff = Date.now() - KV_MIN_WRITE_INTERVAL_MS;
    for (const [k, at] of lastWriteAt) if (at < cutoff) lastWriteAt.delete(k);
  }
  lastWriteAt.set(key, Date.now());
}

/** Resolves once every write queued in this isolate so far has been accepted or has failed (tests, shutdown). */
export async function settled(): Promise<void> {
  await Promise.allSettled([...queued.values(), ...writing.values()].map((slot) => slot.done));
}
