/**
 * `clerk-session-gateway/hono`: the gateway's guarantees on an app's own Hono routes.
 *
 *   app.use("*", clerkMiddleware());
 *   app.get("/api/me", requireAuth(), (c) => c.json({ userId: getAuth(c).userId }));
 *   app.route("/clerk", sessionGateway());
 */

export type { ReverificationConfig } from "../auth/authorization";
export {
  type AuthObject,
  type CheckAuthorizationParams,
  type ClerkMiddlewareOptions,
  clerkMiddleware,
  type GetAuthOptions,
  getAuth,
  type RequireAuthOptions,
  requireAuth,
  type SignedInAuthObject,
  type SignedOutAuthObject,
  type SignedOutReason,
} from "./auth";
export type { GatewayBindingName, GatewayOptions } from "./bindings";
export { type SessionGatewayOptions, sessionGateway } from "./gateway";
export type { ClerkHonoVariables } from "./variables";
