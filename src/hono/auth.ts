import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  authorizationFacts,
  type CheckAuthorizationParams,
  createCheckAuthorization,
  type OrgFields,
  orgFieldsOf,
} from "../auth/authorization";
import { endedSessionStatus } from "../auth/long-lived";
import type { SessionClaims } from "../auth/principal";
import { type RefusalReason, refusal } from "../auth/refusals";
import { checkSessionToken } from "../auth/session-check";
import { ClerkClient } from "../clerk/client";
import { loadConfig } from "../config/settings";
import { ApiError, forbidden, misconfiguredSetting, rateLimited, upstreamUnavailable } from "../core/errors";
import { log } from "../core/log";
import { waitUntilOf } from "../core/wait-until";
import { crossSiteCookieRequest, isCrossSiteCookieRequest, readCredential } from "../http/auth-middleware";
import { limitOrThrow, RATE_LIMITS } from "../http/rate-limit";
import { directoryUnavailable } from "../revocation/directory-client";
import { markRevoked } from "../revocation/revocations";
import { setBackendClient } from "./backend-client";
import { type GatewayOptions, gatewayEnv } from "./bindings";
import { servedByMountedGateway } from "./gateway-mount";
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

/**
 * Why a request is signed out, as the gateway's own routes name it: kept for logs and
 * `debug()`; `requireAuth()` tells the caller only what the gateway would (auth/refusals.ts).
 */
export type SignedOutReason =
  | RefusalReason
  | "rate_limited"
  | "directory_unavailable"
  | "cross_site_cookie"
  /** Clerk's signing keys could not be loaded (no key in memory or KV, and Clerk's JWKS failing). */
  | "keys_unavailable"
  /** Verification failed for a reason that is not the caller's (logged as an error). */
  | "auth_unavailable";

export type SignedInAuthObject = OrgFields & {
  tokenType: "session_token";
  isAuthenticated: true;
  userId: string;
  sessionId: string;
  sessionStatus: "active" | "pending" | null;
  sessionClaims: SessionClaims;
  actor: Record<string, unknown> | undefined;
  factorVerificationAge: [number, number] | null;
  /** This request's session token; with a template, a token minted by Clerk for it (as `@clerk/backend` does). */
  getToken: (options?: { template?: string; expiresInSeconds?: number }) => Promise<string | null>;
  has: (params: CheckAuthorizationParams) => boolean;
  debug: () => Record<string, unknown>;
};

export type SignedOutAuthObject = {
  tokenType: "session_token";
  isAuthenticated: false;
  userId: null;
  sessionId: null;
  sessionStatus: null;
  sessionClaims: null;
  actor: null;
  orgId: null;
  orgRole: null;
  orgSlug: null;
  orgPermissions: null;
  factorVerificationAge: null;
  getToken: () => Promise<null>;
  has: () => false;
  debug: () => { reason: SignedOutReason };
};

export type AuthObject = SignedInAuthObject | SignedOutAuthObject;

export type ClerkMiddlewareOptions = GatewayOptions;

/** Where the auth object travels in the request's context; not part of the app's Variables type. */
const AUTH_VARIABLE = "clerkSessionGatewayAuth";
const authOf = (c: Context): AuthObject | undefined => c.get(AUTH_VARIABLE);
const setAuth = (c: Context, auth: AuthObject) => {
  c.set(AUTH_VARIABLE, auth);
  // `@clerk/hono`'s `c.get("clerkAuth")`: getAuth without the context.
  c.set("clerkAuth", ((options?: GetAuthOptions) => forAcceptedToken(auth, options?.acceptsToken)) as never);
};

export const clerkMiddleware = (options: ClerkMiddlewareOptions = {}): MiddlewareHandler =>
  async function clerkMiddleware(c, next) {
    setAuth(c, await authenticate(c, options));
    setBackendClient(c, options);
    await next();
  };

/** The kinds of token `@clerk/backend` tells apart. */
export type TokenType = "session_token" | "api_key" | "m2m_token" | "oauth_token";
export type MachineTokenType = Exclude<TokenType, "session_token">;

/** `@clerk/hono`'s second argument: which kinds of token the route accepts. */
export type GetAuthOptions = { acceptsToken?: TokenType | readonly TokenType[] | "any" };

/** A route that asked for a machine token, given none of that kind: `@clerk/backend`'s shape for it. */
export type UnauthenticatedMachineObject<T extends MachineTokenType = MachineTokenType> = {
  tokenType: T;
  isAuthenticated: false;
  id: null;
  subject: null;
  scopes: null;
  getToken: () => Promise<null>;
  has: () => false;
  debug: () => { reason: SignedOutReason | "token_type_mismatch" };
} & (T extends "api_key"
  ? { name: null; claims: null; userId: null; orgId: null }
  : T extends "m2m_token"
    ? { claims: null; machineId: null }
    : { userId: null; clientId: null });

/** A route that accepts a list of kinds, given a token of none of them (`@clerk/backend`'s `invalidTokenAuthObject`). */
export type InvalidTokenAuthObject = {
  tokenType: null;
  isAuthenticated: false;
  getToken: () => Promise<null>;
  has: () => false;
  debug: () => Record<string, never>;
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

/** `@clerk/backend`'s getAuthObjectForAcceptedToken, for the session-token auth this middleware makes. */
export function forAcceptedToken(
  auth: AuthObject,
  acceptsToken: GetAuthOptions["acceptsToken"] = "session_token",
): AuthObject | UnauthenticatedMachineObject | InvalidTokenAuthObject {
  if (acceptsToken === "any") return auth;
  if (Array.isArray(acceptsToken)) return acceptsToken.includes(auth.tokenType) ? auth : invalidTokenAuth();
  if (acceptsToken === auth.tokenType) return auth;
  const reason = auth.isAuthenticated ? "token_type_mismatch" : auth.debug().reason;
  return unauthenticatedMachine(acceptsToken as MachineTokenType, reason);
}

function unauthenticatedMachine(
  tokenType: MachineTokenType,
  reason: SignedOutReason | "token_type_mismatch",
): UnauthenticatedMachineObject {
  const base = {
    isAuthenticated: false as const,
    id: null,
    subject: null,
    scopes: null,
    getToken: () => Promise.resolve(null),
    has: () => false as const,
    debug: () => ({ reason }),
  };
  if (tokenType === "api_key") return { ...base, tokenType, name: null, claims: null, userId: null, orgId: null };
  if (tokenType === "m2m_token") return { ...base, tokenType, claims: null, machineId: null };
  return { ...base, tokenType, userId: null, clientId: null };
}

const invalidTokenAuth = (): InvalidTokenAuthObject => ({
  tokenType: null,
  isAuthenticated: false,
  getToken: () => Promise.resolve(null),
  has: () => false,
  debug: () => ({}),
});

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
      if (reason === "directory_unavailable") return respond(c, sessionUnconfirmable());
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

const respond = (c: Context, error: ApiError) =>
  c.json(error.toEnvelope(), error.status as 401, { ...error.headers, "Cache-Control": "private, no-store" });

/** As the gateway's own routes answer it (docs/directory.md): 503 with Retry-After, in Clerk's envelope. */
const sessionUnconfirmable = () =>
  directoryUnavailable("The gateway cannot confirm this session is still valid right now; retry shortly");

/** As the gateway's routes answer a JWKS outage, with a Retry-After a client can act on. */
const keysUnavailable = () =>
  upstreamUnavailable(
    503,
    "The session could not be verified right now (Clerk's signing keys are unavailable); retry shortly",
    5,
  );

const tooManyFailures = () =>
  rateLimited(
    RATE_LIMITS.RL_AUTH_FAILURES.period,
    "Too many failed authentication attempts from this address; retry later",
  );

/**
 * A misconfiguration is the operator's error: it is thrown, as an HTTPException whose response
 * is Clerk's envelope naming the setting, so Hono's default error handler renders it (a bare
 * "Internal Server Error" would say nothing) and an app's own `onError` can `getResponse()` it.
 */
function misconfiguration(error: ApiError): HTTPException {
  log("error", { msg: "gateway_misconfigured", setting: misconfiguredSetting(error), error: error.message });
  const res = Response.json(error.toEnvelope(), {
    status: error.status,
    headers: { ...error.headers, "Cache-Control": "private, no-store" },
  });
  return new HTTPException(error.status as 500, { res, message: error.message, cause: error });
}

async function authenticate(c: Context, options: GatewayOptions): Promise<AuthObject> {
  let env: ReturnType<typeof gatewayEnv>;
  let config: ReturnType<typeof loadConfig>;
  try {
    env = gatewayEnv(c.env, options);
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ApiError) throw misconfiguration(error);
    throw error;
  }
  const credential = readCredential(c);
  if (credential === null) return signedOut("missing");
  if (credential === "malformed") return refuse(c, env.RL_AUTH_FAILURES, "malformed_authorization");
  if (credential === "ambiguous") return refuse(c, env.RL_AUTH_FAILURES, "ambiguous_session_cookie");
  // A gateway service key (or any other opaque bearer) is not a session token here.
  if (credential.value.split(".").length !== 3) return refuse(c, env.RL_AUTH_FAILURES, "malformed");
  if (isCrossSiteCookieRequest(c, credential.via, config)) {
    // The victim's browser, not the caller, sent this cookie: signed out (requireAuth answers 403),
    // never counted against the address, and checked before anything is verified or fetched.
    log("info", { msg: "auth_signed_out", method: c.req.method, path: c.req.path, reason: "cross_site_cookie" });
    return signedOut("cross_site_cookie");
  }

  let result: Awaited<ReturnType<typeof checkSessionToken>>;
  try {
    result = await checkSessionToken(credential.value, {
      config,
      env,
      keys: {
        kv: env.SESSION_CACHE,
        // Only the JWKS is ever fetched from here, at most once per interval per isolate for an unknown kid.
        clerk: () => new ClerkClient(config),
        waitUntil: waitUntilOf(c),
      },
    });
  } catch (error) {
    return unverifiable(c, error);
  }
  if (!result.ok) return refuse(c, env.RL_AUTH_FAILURES, result.reason);
  // A token minted to outlive Clerk's 60 s: its session's status is confirmed with Clerk, as on the gateway's routes.
  let ended: string | null;
  try {
    ended = await endedSessionStatus(result.claims, {
      config,
      clerk: () => new ClerkClient(config),
      recordEnded: (status) =>
        markRevoked(env, result.claims.sub, result.claims.sid, status, "gateway").catch((error) => {
          // Refused either way; the next check of this long-lived token records it again.
          if (!(error instanceof ApiError && error.code === "directory_unavailable")) throw error;
        }),
    });
  } catch {
    // Clerk could not confirm it: such a token is never accepted unconfirmed, nor counted against its holder.
    log("warn", { msg: "auth_signed_out", method: c.req.method, path: c.req.path, reason: "session_unconfirmed" });
    return signedOut("session_ended");
  }
  if (ended) return refuse(c, env.RL_AUTH_FAILURES, "session_ended");
  return signedIn(result.claims, credential.value, () => new ClerkClient(config));
}

/**
 * Verification could not be completed, through no fault of the caller's. Signed out, never
 * signed in, so no route serves the request as the user; requireAuth() answers 503 with
 * Retry-After whatever the app's own error handler would make of an exception, and a public
 * route keeps working. Not counted as a failed attempt.
 * - The user's SessionDirectory has been unreachable for longer than the fallback allows
 *   (revocation/revocations.ts logged it): the session can be neither vouched for nor blamed.
 * - Clerk's signing keys could not be loaded (a cold isolate, no JWKS in KV, Clerk failing).
 * - Anything else unexpected: logged as an error, signed out.
 * A misconfiguration (CLERK_JWT_KEY that does not import) is still the operator's error.
 */
function unverifiable(c: Context, error: unknown): SignedOutAuthObject {
  if (error instanceof ApiError) {
    if (error.code === "directory_unavailable") return signedOut("directory_unavailable");
    if (misconfiguredSetting(error)) throw misconfiguration(error);
    if (error.code === "upstream_unavailable") {
      log("warn", { msg: "auth_signed_out", method: c.req.method, path: c.req.path, reason: "keys_unavailable" });
      return signedOut("keys_unavailable");
    }
  }
  log("error", {
    msg: "auth_error",
    method: c.req.method,
    path: c.req.path,
    error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : "unknown error",
  });
  return signedOut("auth_unavailable");
}

/** A presented credential that failed: counted per client address like the gateway's own failures, and logged. */
async function refuse(c: Context, limiter: RateLimit | undefined, reason: RefusalReason): Promise<SignedOutAuthObject> {
  let recorded: SignedOutReason = reason;
  try {
    await limitOrThrow(
      limiter,
      `auth-failure:${c.req.header("CF-Connecting-IP") ?? "unknown"}`,
      tooManyFailures,
      RATE_LIMITS.RL_AUTH_FAILURES.period,
    );
  } catch (error) {
    // Only the limiter's own refusal means "too many"; a broken binding is the operator's error (500).
    if (!(error instanceof ApiError)) throw error;
    recorded = "rate_limited";
  }
  log("info", {
    msg: "auth_signed_out",
    method: c.req.method,
    path: c.req.path,
    reason,
    ...(recorded !== reason ? { limited: true } : {}),
  });
  return signedOut(recorded);
}

function signedOut(reason: SignedOutReason): SignedOutAuthObject {
  return {
    tokenType: "session_token",
    isAuthenticated: false,
    userId: null,
    sessionId: null,
    sessionStatus: null,
    sessionClaims: null,
    actor: null,
    orgId: null,
    orgRole: null,
    orgSlug: null,
    orgPermissions: null,
    factorVerificationAge: null,
    getToken: () => Promise.resolve(null),
    has: () => false,
    debug: () => ({ reason }),
  };
}

function signedIn(claims: SessionClaims, token: string, clerk: () => ClerkClient): SignedInAuthObject {
  const org = orgFieldsOf(claims);
  const sts = claims.sts;
  return {
    tokenType: "session_token",
    isAuthenticated: true,
    userId: claims.sub,
    sessionId: claims.sid,
    sessionStatus: sts === "active" || sts === "pending" ? sts : null,
    sessionClaims: claims,
    actor: isRecord(claims.act) ? claims.act : undefined,
    ...org,
    factorVerificationAge: claims.fva ?? null,
    getToken: async (options) => {
      if (!options?.template) return token;
      const body = options.expiresInSeconds ? { expires_in_seconds: options.expiresInSeconds } : undefined;
      return (await clerk().createTemplateToken(claims.sid, options.template, body)).jwt;
    },
    has: createCheckAuthorization(authorizationFacts(claims, org)),
    debug: () => ({ sessionId: claims.sid, userId: claims.sub }),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
