/**
 * @module
 * What `clerkMiddleware()` sets on the Hono context under `@clerk/hono`'s names, declared as
 * `@clerk/hono` declares them, so an app's `c.get("clerk")` and `c.get("clerkAuth")` type-check
 * unchanged after its import moves over. Types only: nothing of `@clerk/backend` reaches a bundle
 * from here (it is an optional peer; `clerk-session-gateway/hono/clerk-client` brings the client).
 */
import type { ClerkClient } from "@clerk/backend";
import type { GetAuthFnNoRequest } from "@clerk/backend/internal";

export type ClerkHonoVariables = {
  /** A `@clerk/backend` client built from the middleware's settings (needs `clerk-session-gateway/hono/clerk-client`). */
  clerk: ClerkClient;
  /** `getAuth(c, options)` without the context: the auth object for the kinds of token asked for. */
  clerkAuth: GetAuthFnNoRequest;
};

declare module "hono" {
  interface ContextVariableMap extends ClerkHonoVariables {}
}
