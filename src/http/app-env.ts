/**
 * @module
 * The gateway's Hono environment: the platform's bindings plus what each middleware sets.
 * Every middleware exports its own variables type and an accessor (as Hono's `requestId`
 * and `timing` do); this module only puts them together, so no middleware needs to import
 * the whole environment to describe what it adds.
 */
import type { RequestIdVariables } from "hono/request-id";
import type { AuthVariables } from "../auth/principal";
import type { ClerkClientVariables } from "../clerk/client";
import type { ConfigBindings, ConfigVariables } from "../config/settings";
import type { DirectoryNamespace } from "../revocation/directory-client";
import type { RevocationLogNamespace } from "../revocation/recent";
import type { SessionServiceVariables } from "../sessions/session-service";
import type { ObservabilityVariables } from "./request-log";

export type AppVariables = RequestIdVariables &
  ObservabilityVariables &
  ConfigVariables &
  AuthVariables &
  SessionServiceVariables &
  ClerkClientVariables;

/** Everything the Worker is given: the configuration's bindings and the revocation authority's. */
export type Bindings = ConfigBindings & {
  /**
   * Durable Object namespace: one SessionDirectory per user, the authority on revoked sessions
   * and the claim on webhook deliveries (docs/directory.md). Optional: without it the gateway
   * runs on KV markers alone, with KV's weaker revocation bound (docs/security.md).
   */
  SESSION_DIRECTORY?: DirectoryNamespace;
  /**
   * Durable Object namespace: the revocation log replicas every revoke appends to and every
   * isolate reads its recent set from (docs/directory.md). Optional: without it every check
   * asks the user's SessionDirectory.
   */
  REVOCATION_LOG?: RevocationLogNamespace;
};

/** The one environment type of the gateway app and its routes. */
export type AppEnv = { Bindings: Bindings; Variables: AppVariables };
