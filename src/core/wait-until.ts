/**
 * @module
 * `ctx.waitUntil` for work that may finish after the response (KV writes, JWKS storage).
 * `app.request()` in unit tests has no execution context: the promise then simply runs.
 */
/** A Hono context, or anything else that has the request's execution context (the getter may throw without one). */
export type HasExecutionContext = { readonly executionCtx: Pick<ExecutionContext, "waitUntil"> };

export function waitUntilOf(c: HasExecutionContext): (promise: Promise<unknown>) => void {
  return (promise) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      void promise;
    }
  };
}
