import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { KeyLookupDeps } from "../auth/jwks";
import { endedSessionStatus } from "../auth/long-lived";
import type { Principal, SessionClaims, UserPrincipal } from "../auth/principal";
import { type RefusalReason, refusal } from "../auth/refusals";
import { matchServiceKey } from "../auth/service-keys";
import { checkSessionToken } from "../auth/session-check";
import { ClerkClient } from "../clerk/client";
import type { GatewayConfig } from "../config/settings";
import { ApiError, forbidden, rateLimited } from "../core/errors";
import { waitUntilOf } from "../core/wait-until";
import { markRevoked } from "../revocation/revocations";
import type { AppEnv } from "./app-env";
import { guardUpstream, limitOrThrow, RATE_LIMITS } from "./rate-limit";

/**
 * @module
 * Establishes who is calling, from `Authorization: Bearer …` or the `__session` cookie:
 * a Clerk session token makes a user, one of GATEWAY_API_KEYS a service. Runs before
 * any upstream call, so a request that fails here never reaches Clerk.
 */
export type AuthOptions = {
  /** Which kinds of caller the route serves; the other authenticated kind gets a 403. */
  allow: ReadonlyArray<"user" | "service">;
};

const BEARER = /^Bearer\s+(\S+)$/i;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const authenticate = (options: AuthOptions) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = await resolvePrincipal(c);
    if (principal.kind === "anonymous") {
      // Not counted against the IP (nothing was guessed), but named in the log line like any refusal.
      c.var.metrics.authFailure = "missing";
      throw refusal("missing");
    }
    if (!options.allow.includes(principal.kind)) {
      throw forbidden(
        principal.kind === "service"
          ? "This route serves signed-in users; services use the /v1/sessions routes"
          : "This route is only available to backend services",
      );
    }
    if (principal.kind === "user" && isCrossSiteCookieRequest(c, principal.via, c.var.config)) {
      throw crossSiteCookieRequest();
    }
    await next();
  });

/**
 * A browser attaches cookies to cross-site requests on its own (SameSite=Lax does not stop a
 * sibling subdomain): a write authenticated by the `__session` cookie must prove it came from
 * one of CLERK_AUTHORIZED_PARTIES. So must an upgrade: a WebSocket handshake is a GET, but it
 * opens a two-way channel as the cookie's owner, and browsers apply no CORS to it (only the
 * `Origin` header tells a page's socket from the app's). The gateway's routes, the proxy and
 * the middleware all ask this.
 */
export function isCrossSiteCookieRequest(c: Context, via: "header" | "cookie", config: GatewayConfig): boolean {
  if (via !== "cookie") return false;
  if (SAFE_METHODS.has(c.req.method) && c.req.header("Upgrade") === undefined) return false;
  const origin = c.req.header("Origin");
  return !origin || !config.authorizedParties.includes(origin);
}

export const crossSiteCookieRequest = () =>
  forbidden("Cookie-authenticated writes and upgrades (WebSockets) must come from an authorized origin");

/** The credential in the request, or null. A malformed Authorization header is a failure, not an absence. */
export function readCredential(
  c: Context,
): { value: string; via: "header" | "cookie" } | null | "malformed" | "ambiguous" {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const match = BEARER.exec(header.trim());
    return match?.[1] ? { value: match[1], via: "header" } : "malformed";
  }
  // Two `__session` cookies mean one was planted (a sibling subdomain can set a cookie for the
  // parent domain): which one a parser picks is arbitrary, so neither is trusted.
  const sessionCookies = (c.req.header("Cookie") ?? "").split(";").filter((p) => p.trim().startsWith("__session="));
  if (sessionCookies.length > 1) return "ambiguous";
  const cookie = getCookie(c, "__session");
  return cookie ? { value: cookie, via: "cookie" } : null;
}

export async function resolvePrincipal(c: Context<AppEnv>): Promise<Principal> {
  const config = c.var.config;
  const credential = readCredential(c);
  if (credential === null) return { kind: "anonymous" };
  if (credential === "malformed") return refuse(c, "malformed_authorization");
  if (credential === "ambiguous") return refuse(c, "ambiguous_session_cookie");

  const started = Date.now();
  try {
    // A JWT has two dots; a service key never does (keys are opaque strings).
    if (credential.value.split(".").length !== 3) {
      if (credential.via === "cookie") return refuse(c, "malformed");
      const keyIndex = await matchServiceKey(credential.value, config.serviceKeys);
      if (keyIndex < 0) return refuse(c, "unknown_service_key");
      const principal: Principal = { kind: "service", keyIndex };
      c.set("principal", principal);
      return principal;
    }

    const result = await checkSessionToken(credential.value, {
      config,
      env: c.env,
      metrics: c.var.metrics,
      keys: keyDeps(c),
    });
    if (!result.ok) return refuse(c, result.reason);
    if (await endedLongLivedSession(c, result.claims)) return refuse(c, "session_ended");

    const principal: Principal = {
      kind: "user",
      userId: result.claims.sub,
      sessionId: result.claims.sid,
      claims: result.claims,
      via: credential.via,
    };
    c.set("principal", principal);
    return principal;
  } finally {
    c.var.metrics.verifyMs += Date.now() - started;
  }
}

/**
 * `POST /v1/sessions/{id}/refresh` without an Authorization header: the caller is whoever
 * holds the body's `expired_token` (Clerk's contract). Everything but `exp` is checked as
 * for any other token, its `sid` must be the session being refreshed, and a revoked session
 * is refused; a failure counts against the caller's IP like any other.
 */
export async function authenticateRefresh(
  c: Context<AppEnv>,
  token: string,
  sessionId: string,
): Promise<UserPrincipal> {
  const config = c.var.config;
  const started = Date.now();
  try {
    const result = await checkSessionToken(token, {
      config,
      env: c.env,
      metrics: c.var.metrics,
      ignoreExpiry: true,
      keys: keyDeps(c),
    });
    if (!result.ok) return await refuse(c, result.reason);
    if (result.claims.sid !== sessionId) return await refuse(c, "sid_mismatch");
    const principal: UserPrincipal = {
      kind: "user",
      userId: result.claims.sub,
      sessionId: result.claims.sid,
      claims: result.claims,
      via: "header",
    };
    c.set("principal", principal);
    return principal;
  } finally {
    c.var.metrics.verifyMs += Date.now() - started;
  }
}

const keyDeps = (c: Context<AppEnv>): KeyLookupDeps => ({
  kv: c.env.SESSION_CACHE,
  // JWKS reads are not counted against the upstream guard: Clerk does not rate-limit /v1/jwks,
  // and the key store already allows one unknown-kid fetch per interval per isolate.
  clerk: () => new ClerkClient(c.var.config, { stats: c.var.metrics.upstream }),
  waitUntil: waitUntilOf(c),
});

/**
 * Records the precise reason in the log line, counts the
 * failure against the caller's IP, and throws 401, or 429 once that IP failed too often.
 * Cloudflare always sets CF-Connecting-IP in production; only local runs lack it.
 */
async function refuse(c: Context<AppEnv>, reason: RefusalReason): Promise<never> {
  c.var.metrics.authFailure = reason;
  const ip = c.req.header("CF-Connecting-IP") ?? "unknown";
  await limitOrThrow(
    c.env.RL_AUTH_FAILURES,
    `auth-failure:${ip}`,
    (retryAfter) => rateLimited(retryAfter, "Too many failed authentication attempts from this address; retry later"),
    RATE_LIMITS.RL_AUTH_FAILURES.period,
  );
  // The caller learns what it can fix, never which check a forged token failed (refusals.ts).
  throw refusal(reason);
}

/**
 * The long-lived token check (auth/long-lived.ts) on the gateway's routes: a guarded client,
 * and the ended session recorded through the session service when there is one.
 * A token that lives longer than Clerk's 60 s was minted on purpose, and may outlive its
 * session: a session that expires or is abandoned sends no webhook, so no revocation marker
 * exists. Its session's status is therefore asked of Clerk, and believed for
 * SESSION_STATUS_MEMORY_MS per session in this isolate; a session Clerk no longer reports as
 * active (whatever ended it, or gone altogether) is recorded as ended and the token refused.
 * Returns the ended status, or null when the token may be used. A failing Clerk fails the
 * request (the error propagates): such a token is never accepted unconfirmed.
 */
export async function endedLongLivedSession(c: Context<AppEnv>, claims: SessionClaims): Promise<string | null> {
  const sessions = c.get("sessions");
  return endedSessionStatus(claims, {
    config: c.var.config,
    // The proxy front door authenticates without the gateway's services: it gets a guarded client of its own.
    clerk: () =>
      sessions?.clerk ??
      new ClerkClient(c.var.config, {
        stats: c.var.metrics.upstream,
        beforeCall: () => guardUpstream(c, c.var.config),
      }),
    recordEnded: async (status) => {
      const recorded = sessions
        ? sessions.recordEnded(claims.sub, claims.sid, status, "gateway")
        : markRevoked(c.env, claims.sub, claims.sid, status, "gateway");
      // The token is refused either way; an object that could not record it (logged) learns of it
      // from the next check of this kind, which every long-lived token of the session goes through.
      await recorded.catch((error) => {
        if (!(error instanceof ApiError && error.code === "directory_unavailable")) throw error;
      });
    },
  });
}
