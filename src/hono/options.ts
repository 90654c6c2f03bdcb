/**
 * @module
 * `clerkMiddleware()`'s options: every option `@clerk/hono`'s `ClerkMiddlewareOptions` accepts
 * (its `AuthenticateRequestOptions` without `acceptsToken`, plus `frontendApiProxy`), so an app's
 * options type-check unchanged, and the gateway's own (`bindings`). Nothing is silently
 * ignored: an option this package accepts but does not implement fails when the middleware is
 * built, with an error naming it and saying why, before any request is answered.
 */
import type { GatewayOptions } from "./bindings";

/** `@clerk/hono`'s `frontendApiProxy`: the Frontend API forwarded through the app's own Worker. */
export type FrontendApiProxyOptions = {
  /** On or off, or decided per request from its URL. */
  enabled: boolean | ((url: URL) => boolean);
  /** The path prefix the Frontend API is served under; default `/__clerk`. */
  path?: string;
};

export type ClerkMiddlewareOptions = GatewayOptions & {
  /** The secret key of Clerk's machine-to-machine tokens; defaults to CLERK_MACHINE_SECRET_KEY. */
  machineSecretKey?: string;
  /** Accepted `aud` values: a token must carry one of them (Clerk's session tokens carry none). */
  audience?: string | string[];
  /** Clock skew allowed on `exp`, `nbf` and `iat`; default 5,000 ms, as Clerk's. */
  clockSkewInMs?: number;
  /** The accepted `iss` values, replacing the one derived from the publishable key. */
  issuer?: string | string[];
  /** Accepted values of the token's `typ` header when present; default `JWT`. */
  headerType?: string | string[];
  /** How long Clerk's keys are kept before they are fetched again. */
  jwksCacheTtlInMs?: number;
  /** Clerk's: fetch the keys on every request. Not implemented (the gateway's key memory is its point). */
  skipJwksCache?: boolean;
  /** The Frontend API's proxy URL the app's frontend uses (`https://app.example.com/__clerk`). */
  proxyUrl?: string;
  /** A satellite application's own domain. */
  domain?: string;
  /** Whether this application is a satellite of another one's sign-in. */
  isSatellite?: boolean;
  /** Whether a satellite syncs its session on the first navigation; Clerk's default true. */
  satelliteAutoSync?: boolean;
  /** Where the handshake sends a signed-out satellite, and development instances sign in. */
  signInUrl?: string;
  signUpUrl?: string;
  afterSignInUrl?: string;
  afterSignUpUrl?: string;
  /** Clerk's URL-driven active organization. Not implemented. */
  organizationSyncOptions?: { organizationPatterns?: string[]; personalAccountPatterns?: string[] };
  /** A `@clerk/backend` API client to use for Clerk's calls. Not implemented: the gateway makes its own. */
  apiClient?: unknown;
  /** `@clerk/hono`'s Frontend API proxy, with the gateway's additions (README). */
  frontendApiProxy?: FrontendApiProxyOptions;
};

type OptionName = keyof ClerkMiddlewareOptions;

/**
 * Each option and what this package does with it: `true` when it is implemented, else why not
 * (said in the construction error). Every key of the type is here (the compiler checks it), so a
 * new option can't slip in unclassified.
 */
/** Accepted by `@clerk/hono` and on this package's way (CHANGELOG), refused until it lands. */
const PENDING = "not implemented yet";

const SUPPORT: { [Name in OptionName]-?: true | string } = {
  bindings: true,
  secretKey: true,
  publishableKey: true,
  apiUrl: true,
  apiVersion: true,
  jwtKey: true,
  authorizedParties: true,
  machineSecretKey: PENDING,
  audience: PENDING,
  clockSkewInMs: PENDING,
  issuer: PENDING,
  headerType: PENDING,
  jwksCacheTtlInMs: PENDING,
  skipJwksCache:
    "fetching Clerk's keys on every request would put a round trip on every request; the gateway refetches on an unknown kid (bounded) instead",
  proxyUrl: PENDING,
  domain: PENDING,
  isSatellite: PENDING,
  satelliteAutoSync: PENDING,
  signInUrl: PENDING,
  signUpUrl: PENDING,
  afterSignInUrl: PENDING,
  afterSignUpUrl: PENDING,
  organizationSyncOptions:
    "activating an organization from the URL is not supported; set the active organization from the frontend (setActive)",
  apiClient: "the gateway makes Clerk's calls with its own client, under its upstream budget",
  frontendApiProxy: PENDING,
};

/**
 * Checks the options once, when the middleware is built. Throws a plain `Error` (the app is
 * being set up, no request is in flight) naming the option: an unimplemented one, an unknown
 * one (a typo, or an option of a newer `@clerk/hono`), or a value of the wrong kind.
 */
export function checkOptions(options: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const support = (SUPPORT as Record<string, true | string | undefined>)[name];
    if (support === undefined) {
      throw new Error(`clerk-session-gateway: clerkMiddleware() has no option "${name}".`);
    }
    if (support !== true) {
      throw new Error(`clerk-session-gateway: clerkMiddleware()'s "${name}" option is not implemented: ${support}.`);
    }
    const problem = invalid(name as OptionName, value);
    if (problem) throw new Error(`clerk-session-gateway: clerkMiddleware()'s "${name}" option ${problem}.`);
  }
}

const isStringList = (value: unknown) =>
  typeof value === "string" || (Array.isArray(value) && value.every((entry) => typeof entry === "string"));

function invalid(name: OptionName, value: unknown): string | undefined {
  switch (name) {
    case "audience":
    case "issuer":
    case "headerType":
      return isStringList(value) ? undefined : "must be a string or an array of strings";
    case "clockSkewInMs":
    case "jwksCacheTtlInMs":
      return typeof value === "number" && Number.isFinite(value) && value >= 0
        ? undefined
        : "must be a number of milliseconds, 0 or more";
    case "isSatellite":
    case "satelliteAutoSync":
      return typeof value === "boolean" ? undefined : "must be a boolean";
    case "authorizedParties":
      return Array.isArray(value) && value.every((entry) => typeof entry === "string")
        ? undefined
        : "must be an array of origins";
    case "frontendApiProxy": {
      const proxy = value as Partial<FrontendApiProxyOptions> | null;
      if (typeof proxy !== "object" || proxy === null) return "must be { enabled, path? }";
      if (typeof proxy.enabled !== "boolean" && typeof proxy.enabled !== "function") {
        return "needs enabled: a boolean or a function of the request's URL";
      }
      if (proxy.path !== undefined && (typeof proxy.path !== "string" || !proxy.path.startsWith("/"))) {
        return "path must start with /";
      }
      return undefined;
    }
    case "bindings":
      return typeof value === "object" && value !== null ? undefined : "must be an object of binding names";
    default:
      return typeof value === "string" ? undefined : "must be a string";
  }
}
