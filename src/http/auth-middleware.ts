/**
 * @module
 * The engine (auth/authenticate.ts) on the gateway's own routes and the proxy: its outcome
 * thrown as the ApiError Clerk's SDKs expect, the caller set as `principal`, the reason in the
 * request's log line. Runs before any upstream call, so a request that fails here never reaches
 * Clerk (the long-lived token check excepted, which asks Clerk under the upstream guard).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import {
  type AuthDeps,
  type AuthOutcome,
  authenticateExpiredToken,
  authenticate as authenticateRequest,
  crossSiteCookieRequest,
  tooManyFailures,
} from "../auth/authenticate";
import type { Principal, UserPrincipal } from "../auth/principal";
import { refusal } from "../auth/refusals";
import { ClerkClient } from "../clerk/client";
import { forbidden } from "../core/errors";
import { log } from "../core/log";
import { waitUntilOf } from "../core/wait-until";
import type { AppEnv } from "./app-env";
import { guardUpstream } from "./rate-limit";

export type AuthOptions = {
  /** Which kinds of caller the route serves; the other authenticated kind gets a 403. */
  allow: ReadonlyArray<"user" | "service">;
};

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
    await next();
  });

/** Who is calling; a refused or undecided request throws. Sets `principal` for a user or a service. */
export async function resolvePrincipal(c: Context<AppEnv>): Promise<Principal> {
  const outcome = await timed(c, () => authenticateRequest(c.req.raw, engineDeps(c)));
  return principalOf(c, outcome);
}

/** A refresh's `expired_token` as the caller (auth/authenticate.ts, authenticateExpiredToken). */
export async function authenticateRefresh(
  c: Context<AppEnv>,
  token: string,
  sessionId: string,
): Promise<UserPrincipal> {
  const outcome = await timed(c, () => authenticateExpiredToken(c.req.raw, token, sessionId, engineDeps(c)));
  const principal = principalOf(c, outcome);
  if (principal.kind !== "user") throw refusal("malformed");
  return principal;
}

async function timed(c: Context<AppEnv>, run: () => Promise<AuthOutcome>): Promise<AuthOutcome> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    c.var.metrics.verifyMs += Date.now() - started;
  }
}

/** The outcome as the gateway's routes answer it. */
function principalOf(c: Context<AppEnv>, outcome: AuthOutcome): Principal {
  switch (outcome.kind) {
    case "anonymous":
      return outcome;
    case "user":
    case "service":
      c.set("principal", outcome.principal);
      return outcome.principal;
    case "refused":
      c.var.metrics.authFailure = outcome.reason;
      // The caller learns what it can fix, never which check a forged token failed (refusals.ts).
      throw outcome.limited ? tooManyFailures() : refusal(outcome.reason);
    case "cross_site":
      // The victim's browser, not the caller, sent this cookie: 403, never counted against the address.
      c.var.metrics.authFailure = outcome.reason;
      throw crossSiteCookieRequest();
    case "unconfirmed":
      if (outcome.reason === "auth_unavailable") {
        log("error", {
          msg: "auth_error",
          request_id: c.get("requestId"),
          error: describe(outcome.cause),
        });
      }
      throw outcome.error;
  }
}

const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : "unknown error";

/**
 * What the engine needs, from the gateway's request context. The long-lived token check asks
 * Clerk with the session service's guarded client, or (the proxy's front door, which has no
 * session service) one guarded the same way; an ended session is recorded through the session
 * service when there is one, so the cached list follows.
 */
function engineDeps(c: Context<AppEnv>): AuthDeps {
  const config = c.var.config;
  const sessions = c.get("sessions");
  return {
    config,
    env: c.env,
    acceptServiceKeys: true,
    metrics: c.var.metrics,
    keys: {
      kv: c.env.SESSION_CACHE,
      // JWKS reads are not counted against the upstream guard: Clerk does not rate-limit /v1/jwks,
      // and the key store already allows one unknown-kid fetch per interval per isolate.
      clerk: () => new ClerkClient(config, { guard: { unguarded: "jwks" }, stats: c.var.metrics.upstream }),
      waitUntil: waitUntilOf(c),
    },
    clerk: () =>
      sessions?.clerk ??
      new ClerkClient(config, { guard: () => guardUpstream(c, config), stats: c.var.metrics.upstream }),
    ...(sessions
      ? { recordEnded: (claims, status) => sessions.recordEnded(claims.sub, claims.sid, status, "gateway") }
      : {}),
  };
}
