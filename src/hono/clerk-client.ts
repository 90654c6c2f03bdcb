/**
 * `clerk-session-gateway/hono/clerk-client`: imported once, for its effect, by an app that reads
 * `c.get("clerk")`:
 *
 *   import "clerk-session-gateway/hono/clerk-client";
 *
 * From then on `clerkMiddleware()` sets `c.get("clerk")` to a `@clerk/backend` client built
 * from its settings, as `@clerk/hono` does. `@clerk/backend` (an optional peer) is bundled only
 * by apps that import this.
 */
import { createClerkClient } from "@clerk/backend";
import { provideBackendClient } from "./backend-client";

provideBackendClient(createClerkClient as (options: object) => unknown);
