import { type Context, type ExecutionContext, Hono } from "hono";
import { basePath } from "hono/route";
import { createApp } from "../api/app";
import { errorResponse, notFound } from "../core/errors";
import { type GatewayOptions, gatewayEnv } from "./bindings";
import { markGatewayMount } from "./gateway-mount";

export type SessionGatewayOptions = GatewayOptions & {
  /**
   * The gateway's OpenAPI document (`import openapi from "clerk-session-gateway/openapi"`),
   * served at `<prefix>/openapi.json` with the mount as its server, so its paths resolve
   * under the prefix. Without it that path answers 404 in Clerk's envelope, saying how to pass it.
   */
  openapi?: { servers?: unknown } & Record<string, unknown>;
};

const OPENAPI_NOT_PASSED =
  'This mounted gateway serves no OpenAPI document: pass it in, sessionGateway({ openapi }) with `import openapi from "clerk-session-gateway/openapi"`, and it is served here with this mount as its server';

/**
 * The gateway's ten operations and its webhook as a sub-app: `app.route("/clerk", sessionGateway())`.
 * Requests under the prefix are handed to a complete gateway app with the prefix stripped, so
 * it behaves exactly as the standalone Worker (CORS, body limits, rate limits, Clerk-shaped
 * errors, its own 404s) and nothing of it leaks into the host app's middleware or error handler.
 */
export function sessionGateway(options: SessionGatewayOptions = {}) {
  return mountGateway(options, false);
}

/**
 * The standalone Worker's mount (src/index.ts; not exported by the package): the same gateway,
 * except that `/openapi.json`, like its pages, is its static asset (public/openapi.json, [assets]).
 */
export function standaloneGateway(options: GatewayOptions = {}) {
  return mountGateway(options, true);
}

function mountGateway(options: SessionGatewayOptions, documentIsAsset: boolean) {
  const gateway = createApp();
  // The host app's env is its own; the gateway reads it only through gatewayEnv().
  const mount = new Hono<{ Bindings: object }>();
  mount.all(
    "*",
    markGatewayMount(async (c) => {
      const prefix = mountPrefix(c);
      const url = new URL(c.req.url);
      const path = url.pathname.slice(prefix.length) || "/";
      if (path === "/openapi.json" && c.req.method === "GET" && !documentIsAsset) {
        if (options.openapi) {
          return c.json({ ...options.openapi, servers: [{ url: prefix || "/", description: "This gateway" }] });
        }
        // Not the standalone Worker's "[assets] in wrangler.toml": a mounted gateway serves only the document it is given.
        return errorResponse(notFound(OPENAPI_NOT_PASSED));
      }
      let env: ReturnType<typeof gatewayEnv>;
      try {
        env = gatewayEnv(c.env, options);
      } catch (error) {
        return errorResponse(error);
      }
      // The path is set, never parsed against the URL: `//evil.example/v1/…` must stay a path, not become a host.
      const target = new URL(url);
      target.pathname = path;
      const request = prefix ? new Request(target, c.req.raw) : c.req.raw;
      return gateway.fetch(request, env, executionContextOf(c));
    }),
  );
  return mount;
}

/**
 * The part of the URL the host app routed here on (`/t/acme/auth` for `app.route("/t/:tenant/auth", …)`),
 * as the request spelled it: hono/route's basePath has the parameters filled in (decoded), so
 * only its number of segments is taken from it.
 */
function mountPrefix(c: Context): string {
  const depth = basePath(c).split("/").filter(Boolean).length;
  if (depth === 0) return "";
  return new URL(c.req.url).pathname
    .split("/")
    .slice(0, depth + 1)
    .join("/");
}

/** `app.request()` in unit tests has no execution context; the gateway then runs background work inline. */
function executionContextOf(c: Context): ExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
