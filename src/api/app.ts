import { Hono } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { ASSERTION_JWKS_PATH } from "../auth/origin-assertion";
import { ClerkClient } from "../clerk/client";
import { loadConfig } from "../config/settings";
import { ApiError, internalError, invalidParam, misconfiguredSetting, notFound } from "../core/errors";
import { log } from "../core/log";
import { waitUntilOf } from "../core/wait-until";
import type { AppEnv } from "../http/app-env";
import { readBody } from "../http/body-limit";
import { guardUpstream } from "../http/rate-limit";
import { gatewayRequestId, observe } from "../http/request-log";
import { SessionCache } from "../sessions/session-cache";
import { SessionService } from "../sessions/session-service";
import { assertionJwks, JWKS_CACHE_CONTROL, jwks } from "./routes/jwks";
import { me } from "./routes/me";
import { pages } from "./routes/pages";
import { passthrough } from "./routes/passthrough";
import { sessions } from "./routes/sessions";
import { webhooks } from "./routes/webhooks";

/** JSON bodies the API accepts are small; Clerk's webhook payloads carry a whole user. */
export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/** Loads (and caches) the configuration; a bad setting fails the request with a 500 naming it. */
const configure = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set("config", loadConfig(c.env));
    await next();
  });

/** route → auth → cache → Clerk: the per-request wiring of the cache and the Clerk client. */
const wireServices = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const config = c.var.config;
    const waitUntil = waitUntilOf(c);
    const clerk = new ClerkClient(config, {
      // Keeps the gateway's own calls under Clerk's Backend-API limit, which depends on the instance type.
      guard: () => guardUpstream(c, config),
      stats: c.var.metrics.upstream,
    });
    const cache = new SessionCache(c.env.SESSION_CACHE, {
      freshSeconds: config.sessionCacheTtlSeconds,
      staleSeconds: config.sessionCacheStaleSeconds,
      waitUntil,
    });
    c.set("clerk", clerk);
    c.set(
      "sessions",
      new SessionService({ clerk, cache, bindings: c.env, onCacheTime: (ms) => (c.var.metrics.cacheMs += ms) }),
    );
    await next();
  });

/**
 * Authenticated (and error) responses must never be stored by a browser or a shared cache.
 * A successful response that declared itself public (the JWKS) keeps its own policy.
 */
const noStore = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    if (c.res.ok && c.res.headers.get("Cache-Control") === JWKS_CACHE_CONTROL) return;
    c.res.headers.set("Cache-Control", "private, no-store");
  });

export function createApp() {
  const app = new Hono<AppEnv>();

  app.use(gatewayRequestId());
  app.use(observe());
  app.use(noStore());
  app.use(secureHeaders());
  app.use(configure());
  app.use(
    "/v1/*",
    cors({
      origin: (origin, c) => ((c.var.config?.authorizedParties ?? []).includes(origin) ? origin : null),
      credentials: true,
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type"],
      exposeHeaders: ["X-Cache", "X-Request-Id", "Retry-After", "Server-Timing"],
      maxAge: 600,
    }),
  );
  // Bodies are read here, once, bounded; a cut body is a 400 (src/http/body-limit.ts).
  app.use("/v1/*", readBody(MAX_BODY_BYTES));
  app.use("/webhooks/*", readBody(MAX_WEBHOOK_BODY_BYTES));
  app.use(wireServices());

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.route("/v1/me", me);
  app.route("/v1/sessions", sessions);
  app.route("/v1/jwks", jwks);
  app.route(ASSERTION_JWKS_PATH, assertionJwks);
  app.route("/webhooks", webhooks);
  app.route("/", pages);
  // Last among /v1: every other Backend-API path is forwarded (BAPI_PASSTHROUGH) or a 404 naming the setting.
  app.route("/v1", passthrough);

  app.notFound(() => {
    throw notFound("The requested resource was not found");
  });

  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500 && apiError.code === "internal_error" && !(error instanceof ApiError)) {
      log("error", {
        msg: "unhandled_error",
        request_id: c.get("requestId"),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
    const metrics = c.get("metrics");
    if (metrics) {
      metrics.errorCode = apiError.code;
      metrics.setting = misconfiguredSetting(apiError);
    }
    return c.json(apiError.toEnvelope(), apiError.status as 400, apiError.headers);
  });

  return app;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  // Hono's JSON parsing (the validators) throws this for a malformed body; bodyLimit throws ApiErrors itself.
  if (error instanceof HTTPException && error.status === 400) {
    return invalidParam("body", "The request body is not valid JSON");
  }
  return internalError();
}
