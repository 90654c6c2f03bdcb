import { KV_MIN_TTL_SECONDS, KV_MIN_WRITE_INTERVAL_MS } from "./kv-schema";

/**
 * Coalesces writes per key inside this isolate: KV accepts one write per second per key,
 * so a burst of changes to one key becomes one write of the latest value. Reads in this
 * isolate see a queued value at once (read-your-writes), before KV has it.
 */
type Pending = { value: string | null; ttl: number; done: Promise<void> };

const pending = new Map<string, Pending>();
const lastWriteAt = new Map<string, number>();
const MAX_TRACKED_KEYS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Queues `value` (or a delete, for null) for `key`; resolves once KV has accepted it. */
export function writeCoalesced(kv: KVNamespace, key: string, value: string | null, ttlSeconds: number): Promise<void> {
  const ttl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds));
  const queued = pending.get(key);
  if (queued) {
    queued.value = value;
    queued.ttl = ttl;
    return queued.done;
  }
  const wait = Math.max(0, (lastWriteAt.get(key) ?? 0) + KV_MIN_WRITE_INTERVAL_MS - Date.now());
  const entry: Pending = { value, ttl, done: Promise.resolve() };
  pending.set(key, entry);
  entry.done = (async () => {
    if (wait > 0) await sleep(wait);
    pending.delete(key);
    remember(key);
    if (entry.value === null) await kv.delete(key);
    else await kv.put(key, entry.value, { expirationTtl: entry.ttl });
  })();
  return entry.done;
}

/** The value queued for `key` in this isolate: a string, null for a queued delete, undefined if none. */
export function queuedValue(key: string): string | null | undefined {
  return pending.get(key)?.value;
}

function remember(key: string) {
  if (lastWriteAt.size >= MAX_TRACKED_KEYS) {
    const cutoff = Date.now() - KV_MIN_WRITE_INTERVAL_MS;
    for (const [k, at] of lastWriteAt) if (at < cutoff) lastWriteAt.delete(k);
  }
  lastWriteAt.set(key, Date.now());
}
