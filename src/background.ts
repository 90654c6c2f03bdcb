/**
 * @module
 * `ctx.waitUntil` for work that may finish after the response (KV writes, JWKS storage).
 * `app.request()` in unit tests has no execution context: the promise then simply runs.
 */
import type { Context } from "hono";

export function waitUntilOf(c: Context): (promise: Promise<unknown>) => void {
  return (promise) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      void promise;
    }
  };
}
