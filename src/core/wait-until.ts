/**
 * @module
 * `ctx.waitUntil` for work that may finish after the response (KV writes, JWKS storage, the
 * refresh of the recent revocations). `app.request()` in unit tests has no execution context:
 * the promise then simply runs.
 */
import { waitUntil as platformWaitUntil } from "cloudflare:workers";
import { fixedBytes, isolateMap } from "./isolate-memory";

/** Work handed to keepAlive that has not settled yet (tests wait for it: `backgroundSettled`). */
const pending = isolateMap<string, Promise<unknown>>("backgroundWork", fixedBytes(64));
let workSeq = 0;

/** A Hono context, or anything else that has the request's execution context (the getter may throw without one). */
export type HasExecutionContext = { readonly executionCtx: Pick<ExecutionContext, "waitUntil"> };

export function waitUntilOf(c: HasExecutionContext): (promise: Promise<unknown>) => void {
  return (promise) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      keepAlive(promise);
    }
  };
}

/**
 * Keeps `promise` alive past the current request's response through the platform's own
 * `waitUntil` (`cloudflare:workers`), for code that has no Hono context at hand. Outside a
 * request (a test's own code) the promise simply runs. Rejections are the caller's to handle.
 */
export function keepAlive(promise: Promise<unknown>): void {
  const id = String(++workSeq);
  pending.set(id, promise);
  const done = () => pending.delete(id);
  void promise.then(done, done);
  try {
    platformWaitUntil(promise);
  } catch {
    void promise;
  }
}

/** Resolves once every piece of work handed to keepAlive in this isolate has settled, including work it started (tests). */
export async function backgroundSettled(): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const work = pending.values();
    if (work.length === 0) return;
    await Promise.allSettled(work);
  }
}
