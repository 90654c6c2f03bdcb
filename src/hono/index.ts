/**
 * `clerk-session-gateway/hono`: the gateway's guarantees on an app's own Hono routes.
 *
 *   app.use("*", clerkMiddleware());
 *   app.get("/api/me", requireAuth(), (c) => c.json({ userId: getAuth(c).userId }));
 *   app.route("/clerk", sessionGateway());
 */

export type { ReverificationConfig } from "../auth/authorization";
export {
  type ClerkMiddlewareOptions,
  clerkMiddleware,
  type FrontendApiProxyOptions,
  getAuth,
  type RequireAuthOptions,
  requireAuth,
} from "./auth";
export type {
  AuthObject,
  CheckAuthorizationParams,
  GetAuthOptions,
  InvalidTokenAuthObject,
  SignedInAuthObject,
  SignedOutAuthObject,
  SignedOutReason,
  TokenType,
  UnauthenticatedMachineObject,
} from "./auth-objects";
export type { GatewayBindingName, GatewayOptions } from "./bindings";
export { type SessionGatewayOptions, sessionGateway } from "./gateway";
export type { ClerkHonoVariables } from "./variables";
