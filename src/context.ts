/**
 * @module
 * The gateway's Hono environment: the platform's bindings plus what each middleware sets.
 * Every middleware exports its own variables type and an accessor (as Hono's `requestId`
 * and `timing` do); this module only puts them together, so no middleware needs to import
 * the whole environment to describe what it adds.
 */
import type { RequestIdVariables } from "hono/request-id";
import type { AuthVariables } from "./auth/principal";
import type { ClerkClientVariables } from "./clerk/client";
import type { Bindings, ConfigVariables } from "./env";
import type { ObservabilityVariables } from "./observability";
import type { SessionServiceVariables } from "./session-service";

export type AppVariables = RequestIdVariables &
  ObservabilityVariables &
  ConfigVariables &
  AuthVariables &
  SessionServiceVariables &
  ClerkClientVariables;

/** The one environment type of the gateway app and its routes. */
export type AppEnv = { Bindings: Bindings; Variables: AppVariables };
