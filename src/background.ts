import type { Context } from "hono";
import type { AppEnv } from "./env";

/**
 * `ctx.waitUntil` for work that may finish after the response (KV writes, JWKS storage).
 * `app.request()` in unit tests has no execution context: the promise then simply runs.
 */
export function waitUntilOf(c: Context<AppEnv>): (promise: Promise<unknown>) => void {
  return (promise) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      void promise;
    }
  };
}
