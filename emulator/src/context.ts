/** Per-request facts shared by the pipeline, the routes and the domain operations. */
import type { Config } from "./config";
import type { Store } from "./state";

export interface RequestContext {
  config: Config;
  store: Store;
  /** Echoed as `x-clerk-trace-id` and as `clerk_trace_id` in error bodies. */
  traceId: string;
  /** Who caused the request, for the events' `event_attributes.http_request`. */
  clientIp: string;
  userAgent: string;
  /** Set by the Backend API pipeline when a machine secret key (not the instance key) authenticated the request. */
  machineId?: string;
  waitUntil(promise: Promise<unknown>): void;
}

// Keyed by the Request object, which Hono hands to handlers unchanged as `c.req.raw`.
const contexts = new WeakMap<Request, RequestContext>();

export function bindContext(request: Request, rc: RequestContext): void {
  contexts.set(request, rc);
}

export function contextOf(request: Request): RequestContext {
  const rc = contexts.get(request);
  if (!rc) throw new Error("request context missing: requests must enter through the emulator's fetch handler");
  return rc;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
