/**
 * @module
 * `c.get("clerk")`: the `@clerk/backend` client `@clerk/hono` puts on the context, built from the
 * middleware's settings. `@clerk/backend` is an optional peer and this module never imports it:
 * an app that reads `c.get("clerk")` imports `clerk-session-gateway/hono/clerk-client` once, which
 * hands `createClerkClient` over here, and an app that does not pays nothing for it in its
 * bundle. Without it, any use of `c.get("clerk")` throws an error saying so.
 */
import type { Context } from "hono";
import { fixedBytes, isolateMap } from "../core/isolate-memory";
import type { Bindings } from "../http/app-env";
import { type GatewayOptions, gatewayEnv } from "./bindings";

/** The options `@clerk/hono` passes to `createClerkClient`, as far as the gateway's settings give them. */
export type BackendClientOptions = {
  secretKey: string;
  publishableKey: string;
  machineSecretKey: string;
  apiUrl: string | undefined;
  apiVersion: string | undefined;
  jwtKey?: string;
  authorizedParties?: string[];
};

type Factory = (options: BackendClientOptions) => unknown;

let factory: Factory | undefined;

/** Called by `clerk-session-gateway/hono/clerk-client` with `@clerk/backend`'s `createClerkClient`. */
export function provideBackendClient(create: Factory): void {
  factory = create;
}

export const BACKEND_CLIENT_MISSING =
  'clerk-session-gateway: c.get("clerk") needs @clerk/backend. Install it (npm install @clerk/backend) and import "clerk-session-gateway/hono/clerk-client" once in your Worker.';

/** What `c.get("clerk")` is without a client: every use says how to get one. */
const missing: unknown = new Proxy(
  {},
  {
    get(_target, property) {
      // Awaiting it, or a test framework printing it, asks for `then` / symbols: not a use.
      if (property === "then" || typeof property === "symbol") return undefined;
      throw new Error(BACKEND_CLIENT_MISSING);
    },
  },
);

/**
 * One client per environment and set of options (gatewayEnv memoizes its views), made on the
 * first request: `createClerkClient` builds some forty API objects, which `@clerk/hono` does on
 * every request.
 */
const clients = isolateMap<object, unknown>("backendClients", fixedBytes(2 * 1024));

export function backendClientFor(
  env: object | undefined,
  options: GatewayOptions,
  create: Factory | null | undefined = factory,
): unknown {
  if (!create) return missing;
  const view = gatewayEnv(env, options);
  const hit = clients.get(view);
  if (hit) return hit;
  const client = create(backendClientOptions(view, options));
  clients.set(view, client);
  return client;
}

/**
 * As `@clerk/hono` builds them: the keys, the API URL and version from the environment (or the
 * options), the machine secret key from CLERK_MACHINE_SECRET_KEY, and the other options as
 * given. CLERK_API_VERSION means a path version (`v1`) to `@clerk/backend` and a
 * `Clerk-API-Version` date to the gateway: a date is left to the gateway, the client keeping its `v1`.
 */
export function backendClientOptions(view: Bindings, options: GatewayOptions): BackendClientOptions {
  const raw = view as unknown as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const apiVersion = text(raw.CLERK_API_VERSION);
  return {
    ...(options.jwtKey !== undefined ? { jwtKey: options.jwtKey } : {}),
    ...(options.authorizedParties !== undefined ? { authorizedParties: [...options.authorizedParties] } : {}),
    secretKey: text(raw.CLERK_SECRET_KEY) ?? "",
    publishableKey: text(raw.CLERK_PUBLISHABLE_KEY) ?? "",
    machineSecretKey: text(raw.CLERK_MACHINE_SECRET_KEY) ?? "",
    apiUrl: text(raw.CLERK_API_URL),
    apiVersion: apiVersion && /^v\d+$/.test(apiVersion) ? apiVersion : undefined,
  };
}

/** `c.set("clerk", …)` as `@clerk/hono` does, after authentication. */
export function setBackendClient(c: Context, options: GatewayOptions): void {
  c.set("clerk", backendClientFor(c.env, options) as never);
}
