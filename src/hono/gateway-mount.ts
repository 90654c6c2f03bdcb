/**
 * @module
 * How the app middleware recognises a request that a mounted `sessionGateway()` will answer,
 * without importing the gateway itself (an app that only uses the middleware does not bundle it).
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";

const GATEWAY_MOUNT = Symbol.for("clerk-session-gateway.mount");
/** Hono keeps the handler a sub-app with its own error handler wrapped under this name (hono/utils/constants). */
const COMPOSED_HANDLER = "__COMPOSED_HANDLER";

type Marked = { [GATEWAY_MOUNT]?: true; [COMPOSED_HANDLER]?: Marked };

/** Marks the handler `sessionGateway()` registers, so the middleware can tell it apart. */
export function markGatewayMount<H extends MiddlewareHandler>(handler: H): H {
  (handler as unknown as Marked)[GATEWAY_MOUNT] = true;
  return handler;
}

function isGatewayMount(handler: unknown): boolean {
  let current = handler as Marked | undefined;
  // A mount inside a sub-app with its own onError is wrapped, once per level.
  for (let depth = 0; current && depth < 8; depth++) {
    if (current[GATEWAY_MOUNT]) return true;
    current = current[COMPOSED_HANDLER];
  }
  return false;
}

/**
 * Whether the route that will answer this request, after the current middleware, is a mounted
 * `sessionGateway()`. Only wildcard routes (other middleware: a logger, CORS, another guard)
 * may sit between the two: a route of the app's own on the way answers the request itself, and
 * must not be reached past a guard that was skipped for the gateway's sake.
 */
export function servedByMountedGateway(c: Context): boolean {
  let routes: ReturnType<typeof matchedRoutes>;
  try {
    routes = matchedRoutes(c);
  } catch {
    // Not dispatched by a Hono router (a handler called directly): nothing is mounted.
    return false;
  }
  for (let index = c.req.routeIndex + 1; index < routes.length; index++) {
    const route = routes[index];
    if (!route) return false;
    if (isGatewayMount(route.handler)) return true;
    if (!route.path.endsWith("*")) return false;
  }
  return false;
}
