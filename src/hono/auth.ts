import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  type AuthOutcome,
  authenticate as authenticateRequest,
  crossSiteCookieRequest,
  keysUnavailable,
  sessionUnconfirmable,
  tooManyFailures,
} from "../auth/authenticate";
import type { CheckAuthorizationParams } from "../auth/authorization";
import { refusal } from "../auth/refusals";
import { ClerkClient } from "../clerk/client";
import { type GatewayConfig, loadConfig } from "../config/settings";
import { ApiError, errorResponse, forbidden, misconfiguredSetting } from "../core/errors";
import { isolateMap, jsonBytes } from "../core/isolate-memory";
import { log } from "../core/log";
import { waitUntilOf } from "../core/wait-until";
import {
  type AuthObject,
  forAcceptedToken,
  type GetAuthOptions,
  type InvalidTokenAuthObject,
  type MachineTokenType,
  type SignedOutReason,
  signedIn,
  signedOut,
  type UnauthenticatedMachineObject,
} from "./auth-objects";
import { setBackendClient } from "./backend-client";
import { gatewayEnv } from "./bindings";
import { servedByMountedGateway } from "./gateway-mount";
import { type ClerkMiddlewareOptions, checkOptions } from "./options";
import type {} from "./variables";

/**
 * `clerkMiddleware()` / `getAuth(c)` with `@clerk/hono`'s names and the core of its auth
 * object, so moving an app over is an import change. What differs is what "signed in"
 * means: the gateway's whole token policy (iss pinned, azp, RS256 only, bounded unknown-kid
 * refetch, pending sessions refused) and the revocation state the gateway keeps, checked on
 * every request, so a session revoked through the gateway or by Clerk's webhook is signed out
 * here at once instead of for the minute its token stays valid.
 */

export type { CheckAuthorizationParams } from "../auth/authorization";

export type { ClerkMiddlewareOptions, FrontendApiProxyOptions } from "./options";

/** Where the auth object travels in the request's context; not part of the app's Variables type. */
const AUTH_VARIABLE = "clerkSessionGatewayAuth";
const authOf = (c: Context): AuthObject | undefined => c.get(AUTH_VARIABLE);
const setAuth = (c: Context, auth: AuthObject) => {
  c.set(AUTH_VARIABLE, auth);
  // `@clerk/hono`'s `c.get("clerkAuth")`: getAuth without the context.
  c.set("clerkAuth", ((options?: GetAuthOptions) => forAcceptedToken(auth, options?.acceptsToken)) as never);
};

export const clerkMiddleware = (options: ClerkMiddlewareOptions = {}): MiddlewareHandler => {
  checkOptions(options);
  return async function clerkMiddleware(c, next) {
    setAuth(c, await authenticate(c, options));
    setBackendClient(c, options);
    await next();
  };
};

/**
 * The auth object `clerkMiddleware()` recorded for this request, for the kinds of token the
 * route accepts (`@clerk/hono`'s rule): a session token on a route that asks for a machine
 * token is signed out, so a route written for machine callers never lets a user in.
 */
export function getAuth(c: Context, options?: { acceptsToken?: "session_token" }): AuthObject;
export function getAuth<T extends MachineTokenType>(
  c: Context,
  options: { acceptsToken: T },
): UnauthenticatedMachineObject<T>;
export function getAuth(
  c: Context,
  options?: GetAuthOptions,
): AuthObject | UnauthenticatedMachineObject | InvalidTokenAuthObject;
export function getAuth(
  c: Context,
  options?: GetAuthOptions,
): AuthObject | UnauthenticatedMachineObject | InvalidTokenAuthObject {
  const auth = authOf(c);
  if (!auth) {
    throw new Error(
      "clerk-session-gateway: getAuth() called without clerkMiddleware() being applied. Use clerkMiddleware() before calling getAuth().",
    );
  }
  return forAcceptedToken(auth, options?.acceptsToken);
}

export type RequireAuthOptions = {
  /** The caller's active organization role must be this one (`org:admin` or `admin`); else 403. */
  role?: string;
  /** The caller must hold this organization permission (`org:invoices:read`); else 403. */
  permission?: string;
};

/**
 * Refuses a signed-out request with 401 in Clerk's error envelope (429 once the caller's
 * address failed authentication too often, 503 with Retry-After when the session could not be
 * confirmed through no fault of the caller's), and one lacking the role or permission with 403.
 * Runs `clerkMiddleware()` itself when the app did not, with default options.
 *
 * A request a mounted `sessionGateway()` will answer is let through: every route of the
 * gateway authenticates its own callers (users, service keys, Clerk's signed webhooks, a
 * refresh's `expired_token`), and a guard above it would turn Clerk's webhooks into 401s.
 */
export const requireAuth = (options: RequireAuthOptions = {}): MiddlewareHandler =>
  async function requireAuth(c, next) {
    if (servedByMountedGateway(c)) return next();
    const auth = authOf(c) ?? (await authenticate(c, {}));
    setAuth(c, auth);
    if (!auth.isAuthenticated) {
      const reason = auth.debug().reason;
      if (reason === "directory_unavailable" || reason === "session_unconfirmed") {
        return respond(c, sessionUnconfirmable());
      }
      if (reason === "keys_unavailable" || reason === "auth_unavailable") return respond(c, keysUnavailable());
      if (reason === "cross_site_cookie") return respond(c, crossSiteCookieRequest());
      return respond(c, reason === "rate_limited" ? tooManyFailures() : refusal(reason, "app"));
    }
    const needs: CheckAuthorizationParams = {};
    if (options.role !== undefined) needs.role = options.role;
    if (options.permission !== undefined) needs.permission = options.permission;
    if (Object.keys(needs).length > 0 && !auth.has(needs)) return respond(c, forbidden());
    await next();
  };

const respond = (_c: Context, error: ApiError) => errorResponse(error);

/**
 * A misconfiguration is the operator's error: it is thrown, as an HTTPException whose response
 * is Clerk's envelope naming the setting, so Hono's default error handler renders it (a bare
 * "Internal Server Error" would say nothing) and an app's own `onError` can `getResponse()` it.
 */
function misconfiguration(error: ApiError): HTTPException {
  log("error", { msg: "gateway_misconfigured", setting: misconfiguredSetting(error), error: error.message });
  return new HTTPException(error.status as 500, { res: errorResponse(error), message: error.message, cause: error });
}

/**
 * `@clerk/hono` checks `azp` only against authorized parties it is given, and most apps give
 * none: signing out every browser token there would make the import change a lockout. So with
 * neither the option nor CLERK_AUTHORIZED_PARTIES set, `azp` is not checked (and a
 * cookie-authenticated write must come from the app's own origin), and the isolate says so once.
 */
const appConfigs = isolateMap<GatewayConfig, GatewayConfig>("appConfigs", jsonBytes);
function appConfig(config: GatewayConfig, options: ClerkMiddlewareOptions): GatewayConfig {
  if (options.authorizedParties !== undefined || config.authorizedParties.length > 0) return config;
  const hit = appConfigs.get(config);
  if (hit) return hit;
  // Said once, when the isolate first builds the variant.
  log("warn", {
    msg: "authorized_parties_unset",
    setting: "CLERK_AUTHORIZED_PARTIES",
    detail:
      "azp is not checked (as @clerk/hono without authorizedParties); set CLERK_AUTHORIZED_PARTIES to the app's origins to check it",
  });
  const variant: GatewayConfig = { ...config, azpUnchecked: true };
  appConfigs.set(config, variant);
  return variant;
}

async function authenticate(c: Context, options: ClerkMiddlewareOptions): Promise<AuthObject> {
  let env: ReturnType<typeof gatewayEnv>;
  let config: ReturnType<typeof loadConfig>;
  try {
    env = gatewayEnv(c.env, options);
    config = appConfig(loadConfig(env), options);
  } catch (error) {
    if (error instanceof ApiError) throw misconfiguration(error);
    throw error;
  }
  // The app's own routes: no service keys, and (no upstream budget of the gateway's here) an
  // unguarded client, which only ever fetches the JWKS (at most once per interval per isolate for
  // an unknown kid) and confirms long-lived tokens (once per session per SESSION_STATUS_MEMORY_MS).
  const clerk = () => new ClerkClient(config, { guard: { unguarded: "app-middleware" } });
  let outcome: AuthOutcome;
  try {
    outcome = await authenticateRequest(c.req.raw, {
      config,
      env,
      acceptServiceKeys: false,
      keys: { kv: env.SESSION_CACHE, clerk, waitUntil: waitUntilOf(c) },
      clerk,
    });
  } catch (error) {
    // Only a misconfiguration is thrown by the engine (CLERK_JWT_KEY that does not import…).
    if (error instanceof ApiError && misconfiguredSetting(error)) throw misconfiguration(error);
    throw error;
  }
  return authObjectFor(c, outcome, clerk);
}

/** The engine's outcome as `@clerk/hono`'s auth object, logged as the gateway's routes would name it. */
function authObjectFor(c: Context, outcome: AuthOutcome, clerk: () => ClerkClient): AuthObject {
  const signOut = (level: "info" | "warn" | "error", reason: SignedOutReason, extra: Record<string, unknown> = {}) => {
    log(level, { msg: "auth_signed_out", method: c.req.method, path: c.req.path, reason, ...extra });
    return signedOut(reason);
  };
  switch (outcome.kind) {
    case "anonymous":
      return signedOut("missing");
    case "user":
      return signedIn(outcome.principal.claims, outcome.token, clerk);
    case "service":
      // Not reachable: service keys are not a credential on an app's routes.
      return signOut("info", "malformed");
    case "refused":
      if (!outcome.limited) return signOut("info", outcome.reason);
      log("info", {
        msg: "auth_signed_out",
        method: c.req.method,
        path: c.req.path,
        reason: outcome.reason,
        limited: true,
      });
      return signedOut("rate_limited");
    case "cross_site":
      return signOut("info", "cross_site_cookie");
    case "unconfirmed":
      if (outcome.reason === "auth_unavailable") {
        log("error", {
          msg: "auth_error",
          method: c.req.method,
          path: c.req.path,
          error:
            outcome.cause instanceof Error
              ? `${outcome.cause.name}: ${outcome.cause.message}`.slice(0, 200)
              : "unknown error",
        });
        return signedOut("auth_unavailable");
      }
      // The directory's outage is logged where it is met (revocation/revocations.ts), once per run of failures.
      if (outcome.reason === "directory_unavailable") return signedOut(outcome.reason);
      return signOut("warn", outcome.reason);
  }
}
