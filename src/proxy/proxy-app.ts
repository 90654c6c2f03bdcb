import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { assertionKeys, signAssertion } from "../auth/origin-assertion";
import type { UserPrincipal } from "../auth/principal";
import { newUpstreamStats } from "../clerk/client";
import { isPublicPath } from "../config/paths";
import { limitOrThrow, RATE_LIMITS } from "../config/rate-limits";
import { loadConfig } from "../config/settings";
import { clientAddress } from "../core/client-address";
import { ApiError, errorResponse, forbidden, internalError, rateLimited, unauthenticated } from "../core/errors";
import { emitText, log } from "../core/log";
import type { AppEnv } from "../http/app-env";
import { resolvePrincipal } from "../http/auth-middleware";
import { type RequestMetrics, requestLine } from "../http/request-log";
import { orgIdOf, originRequestInit, originTarget, sendToOrigin } from "./forward";

/**
 * The identity-aware proxy (ORIGIN_URL): every request the gateway does not serve itself.
 * Outside PUBLIC_PATHS the caller is authenticated exactly as on the gateway's own routes
 * (resolvePrincipal, the one engine: token policy, the cross-site cookie rule, revocation check,
 * failed attempts counted per IP)
 * before anything is sent; a refused caller never reaches the origin. The origin's
 * response is passed back untouched: none of the gateway's own response headers
 * (Cache-Control, security headers, CORS, Server-Timing) are added to it.
 */

/** One log line per proxied request, like the gateway's own; no header is added to the origin's response. */
const observeProxy = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const metrics: RequestMetrics = {
      route: "proxy",
      startedAt: Date.now(),
      verifyMs: 0,
      cacheMs: 0,
      upstream: newUpstreamStats(),
    };
    c.set("metrics", metrics);
    c.set("requestId", crypto.randomUUID());
    try {
      await next();
    } finally {
      // The gateway's own line (one builder for both), with the origin's time under its own name too.
      const line = requestLine(c.var, c.req.method, "proxy", c.res.status, metrics, Date.now() - metrics.startedAt);
      emitText("info", `${line.slice(0, -1)},"origin_ms":${metrics.upstream.ms}}`);
    }
  });

/**
 * The methods an application uses. Anything else (TRACE, CONNECT, TRACK, WebDAV's PROPFIND…)
 * is refused before the origin is called: an origin that answers TRACE as RFC 9110 defines it
 * echoes the request, with the headers the gateway added, to whoever sent it.
 */
const FORWARDED_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const methodNotAllowed = (method: string) =>
  new ApiError(
    405,
    [
      {
        code: "method_not_allowed",
        message: "Method not allowed",
        long_message: `The gateway does not forward ${method.slice(0, 32)} requests; it forwards ${[...FORWARDED_METHODS].join(", ")}.`,
      },
    ],
    { headers: { Allow: [...FORWARDED_METHODS].join(", ") } },
  );

export function createProxyApp() {
  const app = new Hono<AppEnv>();
  app.use(observeProxy());
  app.use(async (c, next) => {
    c.set("config", loadConfig(c.env));
    await next();
  });

  app.all("*", async (c) => {
    const config = c.var.config;
    const proxy = config.proxy;
    // The dispatcher only sends requests here in proxy mode; anything else is a wiring bug.
    if (!proxy) throw internalError();
    // Before anything else: TRACE would have an origin that implements it echo the gateway's own headers.
    if (!FORWARDED_METHODS.has(c.req.method)) throw methodNotAllowed(c.req.method);
    const url = new URL(c.req.url);
    const ip = clientAddress(c.req.raw.headers);

    let principal: UserPrincipal | undefined;
    if (!isPublicPath(url.pathname, proxy.publicPaths)) {
      const resolved = await resolvePrincipal(c);
      if (resolved.kind === "anonymous") throw unauthenticated();
      if (resolved.kind === "service") {
        // The origin is told who the user is; a service key has no user, and must not travel to the origin.
        throw forbidden("The origin serves signed-in users; service keys are for the gateway's /v1 routes");
      }
      principal = resolved;
    }

    await limitOrThrow(
      c.env.RL_PROXY,
      principal ? `proxy:user:${principal.userId}` : `proxy:ip:${ip}`,
      (retryAfter) => rateLimited(retryAfter, "Too many requests; retry later"),
      RATE_LIMITS.RL_PROXY.period,
    );

    const assertion = proxy.assertionKeys
      ? await signAssertion(
          await assertionKeys(proxy.assertionKeys),
          { issuer: url.origin, audience: proxy.originUrl, method: c.req.method, target: originTarget(proxy, url) },
          principal && { userId: principal.userId, sessionId: principal.sessionId, orgId: orgIdOf(principal) },
        )
      : undefined;
    const { target, init, body } = originRequestInit(c.req.raw, url, proxy, principal, assertion);
    const started = Date.now();
    try {
      return await sendToOrigin(target, init, proxy.timeoutMs, c.req.header("Accept-Encoding") ?? null, body);
    } finally {
      c.var.metrics.upstream.ms += Date.now() - started;
      c.var.metrics.upstream.calls++;
    }
  });

  // Only the gateway's own refusals come here; they are marked not to be stored, like the gateway's.
  app.onError((error, c) => {
    const apiError = error instanceof ApiError ? error : internalError();
    if (!(error instanceof ApiError)) {
      log("error", {
        msg: "unhandled_error",
        request_id: c.get("requestId"),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
    const metrics = c.get("metrics");
    if (metrics) metrics.errorCode = apiError.code;
    return errorResponse(apiError);
  });

  return app;
}
