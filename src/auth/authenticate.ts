/**
 * @module
 * The one authentication engine: what "signed in" means, decided once for the gateway's routes,
 * the proxy and the app middleware (`clerk-session-gateway/hono`). Framework-free: it takes the
 * request's method and headers and what it needs (configuration, bindings, a Clerk client), and
 * returns an {@link AuthOutcome}; each caller only maps the outcome (throw an ApiError, build a
 * signed-out auth object, answer 401), as Clerk's own `authenticateRequest` returns a
 * `RequestState` that `toAuth()` maps.
 *
 * The order, fixed here and nowhere else:
 * 1. the credential (`Authorization: Bearer …`, else the `__session` cookie; a malformed header
 *    or two session cookies are refused);
 * 2. a service key (an opaque bearer: a JWT has two dots, a key none), where the caller takes them;
 * 3. the cross-site rule: a cookie-authenticated write or upgrade must come from an authorized
 *    origin, checked before anything is verified or fetched, and never counted against the address
 *    (the victim's browser sent it);
 * 4. verification (the whole token policy, session-token.ts) and 5. revocation (session-check.ts);
 * 6. confirmation with Clerk of a token minted to outlive Clerk's 60 s (long-lived.ts);
 * 7. a refusal counted against the client address (RL_AUTH_FAILURES), `limited` once it failed too often.
 * Anything the gateway cannot decide through no fault of the caller's (the session directory
 * unreachable beyond its fallback, Clerk's keys unavailable, a long-lived token's session not
 * confirmable) is `unconfirmed`: never signed in, never counted, answered 503 by every adapter.
 * A misconfiguration is thrown: it is the operator's error, not an outcome of the request.
 */
import { parse as parseCookies } from "hono/utils/cookie";
import type { ClerkClient } from "../clerk/client";
import { limitOrThrow, RATE_LIMITS } from "../config/rate-limits";
import type { GatewayConfig } from "../config/settings";
import { clientAddress } from "../core/client-address";
import { ApiError, forbidden, misconfiguredSetting, rateLimited, upstreamUnavailable } from "../core/errors";
import { directoryUnavailable } from "../revocation/directory-client";
import { markRevoked, type RevocationBindings, type RevocationMetrics } from "../revocation/revocations";
import type { KeyLookupDeps } from "./jwks";
import { endedSessionStatus } from "./long-lived";
import type { ServicePrincipal, SessionClaims, UserPrincipal } from "./principal";
import type { RefusalReason } from "./refusals";
import { matchServiceKey } from "./service-keys";
import { checkSessionToken } from "./session-check";

/** What the engine reads of a request. A `Request` will do. */
export type AuthRequest = { readonly method: string; readonly headers: Headers; readonly url?: string };

export type Credential = { value: string; via: "header" | "cookie" };

/** Why the gateway could not decide, through no fault of the caller's. */
export type UnconfirmedReason =
  /** The user's SessionDirectory unreachable for longer than the fallback allows (revocations.ts). */
  | "directory_unavailable"
  /** Clerk's signing keys could not be loaded (no key in memory or KV, and Clerk's JWKS failing). */
  | "keys_unavailable"
  /** A long-lived token's session could not be confirmed with Clerk. */
  | "session_unconfirmed"
  /** Anything else unexpected during verification (logged by the adapter as an error). */
  | "auth_unavailable";

export type AuthOutcome =
  | { kind: "anonymous" }
  | { kind: "user"; principal: UserPrincipal; token: string }
  | { kind: "service"; principal: ServicePrincipal }
  /** A presented credential that failed: 401 (`refusal(reason)`), or 429 when `limited`. */
  | { kind: "refused"; reason: RefusalReason; limited: boolean }
  /** A cookie-authenticated write or upgrade from an origin outside CLERK_AUTHORIZED_PARTIES: 403. */
  | { kind: "cross_site"; reason: "cross_site_cookie" }
  /** Not decided: the error to answer with (503 with Retry-After, or the upstream guard's 429). */
  | { kind: "unconfirmed"; reason: UnconfirmedReason; error: ApiError; cause?: unknown };

export type AuthDeps = {
  config: GatewayConfig;
  env: RevocationBindings & { RL_AUTH_FAILURES?: RateLimit | undefined };
  /** The gateway's routes take GATEWAY_API_KEYS; elsewhere an opaque bearer is simply not a session token. */
  acceptServiceKeys: boolean;
  /** Where Clerk's signing keys come from (KV, then Clerk's JWKS). */
  keys: KeyLookupDeps;
  /** The client that confirms long-lived tokens; its guard (or the absence of one) is the caller's to show. */
  clerk: () => ClerkClient;
  /** Records a long-lived token's ended session; by default a revocation in the directory and KV. */
  recordEnded?: (claims: SessionClaims, status: string) => Promise<unknown>;
  /** The request log's view of the revocation check. */
  metrics?: RevocationMetrics;
};

const BEARER = /^Bearer\s+(\S+)$/i;
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** The credential in the request, or null. A malformed Authorization header is a failure, not an absence. */
export function readCredential(headers: Headers): Credential | null | "malformed" | "ambiguous" {
  const header = headers.get("Authorization");
  if (header !== null) {
    const match = BEARER.exec(header.trim());
    return match?.[1] ? { value: match[1], via: "header" } : "malformed";
  }
  // Two `__session` cookies mean one was planted (a sibling subdomain can set a cookie for the
  // parent domain): which one a parser picks is arbitrary, so neither is trusted.
  const cookieHeader = headers.get("Cookie") ?? "";
  const sessionCookies = cookieHeader.split(";").filter((part) => part.trim().startsWith("__session="));
  if (sessionCookies.length > 1) return "ambiguous";
  const cookie = sessionCookies.length === 1 ? parseCookies(cookieHeader, "__session").__session : undefined;
  return cookie ? { value: cookie, via: "cookie" } : null;
}

/**
 * A browser attaches cookies to cross-site requests on its own (SameSite=Lax does not stop a
 * sibling subdomain): a write authenticated by the `__session` cookie must prove it came from
 * one of CLERK_AUTHORIZED_PARTIES. So must an upgrade: a WebSocket handshake is a GET, but it
 * opens a two-way channel as the cookie's owner, and browsers apply no CORS to it (only the
 * `Origin` header tells a page's socket from the app's).
 */
export function isCrossSiteCookieRequest(
  request: AuthRequest,
  via: Credential["via"],
  authorizedParties: readonly string[],
  sameOriginOnly = false,
): boolean {
  if (via !== "cookie") return false;
  if (SAFE_METHODS.has(request.method) && !request.headers.has("Upgrade")) return false;
  const origin = request.headers.get("Origin");
  if (!origin) return true;
  if (authorizedParties.includes(origin)) return false;
  // No parties configured (the app middleware's @clerk/hono default): the app's own origin only.
  return !(sameOriginOnly && request.url !== undefined && originOf(request.url) === origin);
}

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** The request's caller, in the order the module's comment gives. */
export async function authenticate(request: AuthRequest, deps: AuthDeps): Promise<AuthOutcome> {
  const credential = readCredential(request.headers);
  if (credential === null) return { kind: "anonymous" };
  if (credential === "malformed") return refuse(request, deps, "malformed_authorization");
  if (credential === "ambiguous") return refuse(request, deps, "ambiguous_session_cookie");

  // A JWT has two dots; a service key never does (keys are opaque strings).
  if (credential.value.split(".").length !== 3) {
    if (credential.via === "cookie" || !deps.acceptServiceKeys) return refuse(request, deps, "malformed");
    const keyIndex = await matchServiceKey(credential.value, deps.config.serviceKeys);
    if (keyIndex < 0) return refuse(request, deps, "unknown_service_key");
    return { kind: "service", principal: { kind: "service", keyIndex } };
  }

  if (isCrossSiteCookieRequest(request, credential.via, deps.config.authorizedParties, deps.config.azpUnchecked)) {
    return { kind: "cross_site", reason: "cross_site_cookie" };
  }
  return verifyAndConfirm(request, credential, deps, {});
}

/**
 * `POST /v1/sessions/{id}/refresh` without an Authorization header: the caller is whoever holds
 * the body's `expired_token` (Clerk's contract). Everything but `exp` is checked as for any other
 * token, its `sid` must be the session being refreshed, and a revoked session is refused; a
 * failure counts against the caller's address like any other.
 */
export function authenticateExpiredToken(
  request: AuthRequest,
  token: string,
  sessionId: string,
  deps: AuthDeps,
): Promise<AuthOutcome> {
  return verifyAndConfirm(request, { value: token, via: "header" }, deps, { ignoreExpiry: true, sessionId });
}

async function verifyAndConfirm(
  request: AuthRequest,
  credential: Credential,
  deps: AuthDeps,
  refresh: { ignoreExpiry?: true; sessionId?: string },
): Promise<AuthOutcome> {
  let result: Awaited<ReturnType<typeof checkSessionToken>>;
  try {
    result = await checkSessionToken(credential.value, {
      config: deps.config,
      env: deps.env,
      keys: deps.keys,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(refresh.ignoreExpiry ? { ignoreExpiry: true } : {}),
    });
  } catch (error) {
    return unconfirmed(error);
  }
  if (!result.ok) return refuse(request, deps, result.reason);
  const claims = result.claims;
  if (refresh.sessionId !== undefined) {
    if (claims.sid !== refresh.sessionId) return refuse(request, deps, "sid_mismatch");
  } else {
    let ended: string | null;
    try {
      ended = await endedSessionStatus(claims, {
        config: deps.config,
        clerk: deps.clerk,
        recordEnded: (status) => recordEnded(deps, claims, status),
      });
    } catch (error) {
      if (error instanceof ApiError && misconfiguredSetting(error)) throw error;
      // Never accepted unconfirmed, nor counted against its holder. Clerk's failure (502/503/504)
      // or the upstream guard's 429 is answered as the gateway answers it anywhere; anything else 503.
      const answer = error instanceof ApiError ? error : sessionUnconfirmable();
      return { kind: "unconfirmed", reason: "session_unconfirmed", error: answer, cause: error };
    }
    if (ended) return refuse(request, deps, "session_ended");
  }
  return {
    kind: "user",
    token: credential.value,
    principal: { kind: "user", userId: claims.sub, sessionId: claims.sid, claims, via: credential.via },
  };
}

/** Refused either way; a directory that could not record it hears of it from the next check of this token. */
async function recordEnded(deps: AuthDeps, claims: SessionClaims, status: string): Promise<void> {
  const recorded = deps.recordEnded
    ? deps.recordEnded(claims, status)
    : markRevoked(deps.env, claims.sub, claims.sid, status, "gateway");
  await recorded.catch((error) => {
    if (!(error instanceof ApiError && error.code === "directory_unavailable")) throw error;
  });
}

/** Verification could not be completed: the outcome names why, and carries the answer every adapter gives. */
function unconfirmed(error: unknown): AuthOutcome {
  if (error instanceof ApiError) {
    if (misconfiguredSetting(error)) throw error;
    if (error.code === "directory_unavailable") return { kind: "unconfirmed", reason: "directory_unavailable", error };
    // 503 with Retry-After (auth/jwks.ts), or a final 502 when Clerk rejected the gateway's own key: passed on.
    return { kind: "unconfirmed", reason: "keys_unavailable", error };
  }
  return { kind: "unconfirmed", reason: "auth_unavailable", error: keysUnavailable(), cause: error };
}

/**
 * A presented credential that failed: counted per client address. Only the limiter's own refusal
 * means "too many"; a broken binding is the operator's error and propagates.
 */
async function refuse(request: AuthRequest, deps: AuthDeps, reason: RefusalReason): Promise<AuthOutcome> {
  try {
    await limitOrThrow(
      deps.env.RL_AUTH_FAILURES,
      `auth-failure:${clientAddress(request.headers)}`,
      tooManyFailures,
      RATE_LIMITS.RL_AUTH_FAILURES.period,
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { kind: "refused", reason, limited: true };
  }
  return { kind: "refused", reason, limited: false };
}

/** The 403 of a cookie-authenticated write or upgrade from an origin outside CLERK_AUTHORIZED_PARTIES. */
export const crossSiteCookieRequest = () =>
  forbidden("Cookie-authenticated writes and upgrades (WebSockets) must come from an authorized origin");

/** The 429 of an address that failed authentication too often. */
export const tooManyFailures = (retryAfterSeconds: number = RATE_LIMITS.RL_AUTH_FAILURES.period) =>
  rateLimited(retryAfterSeconds, "Too many failed authentication attempts from this address; retry later");

/** As the gateway answers a directory outage (docs/directory.md): 503 with Retry-After, in Clerk's envelope. */
export const sessionUnconfirmable = () =>
  directoryUnavailable("The gateway cannot confirm this session is still valid right now; retry shortly");

/** As the gateway answers a JWKS outage, with a Retry-After a client can act on. */
export const keysUnavailable = () =>
  upstreamUnavailable(
    503,
    "The session could not be verified right now (Clerk's signing keys are unavailable); retry shortly",
    5,
  );
