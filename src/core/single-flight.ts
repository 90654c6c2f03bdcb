/**
 * @module
 * Work one request starts and others join: the single-flight session list load, the serialised
 * updates of a list, the paced KV writes, the JWKS fetch. In workerd a request's I/O belongs to
 * that request: when it is cancelled (its client went away), its pending fetches, KV calls and
 * timers are cancelled too, and a promise other requests await on them never settles; workerd
 * then cancels those requests as hung (a 500). So a request joins shared work for at most
 * {@link SHARED_WORK_PATIENCE_MS} and then does its own: sharing saves calls, it is never what
 * a request's answer depends on. The starter also keeps the work alive past its own response
 * (`ctx.waitUntil`), so a finished request does not strand the ones that joined it.
 */

/**
 * How long a request waits for work another request started before doing its own. Far above
 * a healthy upstream call (tens of ms), so single flight holds; a slow Clerk costs at most one
 * extra call per user per this interval (the waiter that takes over becomes the one others join).
 */
export const SHARED_WORK_PATIENCE_MS = 2_000;

/**
 * `shared`'s value, or null if it has not settled within `ms` (its owner may be gone). A
 * rejection of `shared` is passed on. The timer is this request's own, so it always fires.
 */
export async function joinWithin<T>(shared: Promise<T>, ms = SHARED_WORK_PATIENCE_MS): Promise<{ value: T } | null> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([shared.then((value) => ({ value })), deadline]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
