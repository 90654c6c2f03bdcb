import { ASSERTION_JWKS_PATH } from "../auth/origin-assertion";
import { stripBasePath } from "../config/paths";
import { loadConfig } from "../config/settings";
import { errorResponse, notFound } from "../core/errors";
import type { AppEnv, Bindings } from "../http/app-env";
import { createProxyApp } from "./proxy-app";

type Handler = { fetch: (request: Request, env: Bindings, ctx: ExecutionContext) => Response | Promise<Response> };

/**
 * The Worker's front door: decides, before any of the gateway's middleware runs, whether a
 * request is the gateway's own or the origin's (ORIGIN_URL), so a proxied request and its
 * response are not touched by the gateway's body limits, CORS or response headers.
 *
 * - Neither ORIGIN_URL nor GATEWAY_BASE_PATH set: everything goes to the gateway, unchanged.
 * - GATEWAY_BASE_PATH (`/clerk`): `/clerk/v1/...` is the gateway's `/v1/...`; every other
 *   path goes to the origin (or is a 404 without one).
 * - ORIGIN_URL without a base path: the gateway keeps its API namespace (`/v1/...`,
 *   `/webhooks/...`, `/healthz`) and the one well-known path of its assertion keys; everything
 *   else, its pages and the rest of `/.well-known/` included, is the origin's.
 */
export function withOrigin(gateway: Handler): Handler {
  const proxy = createProxyApp();
  return {
    fetch(request, env, ctx) {
      if (!env.ORIGIN_URL?.trim() && !env.GATEWAY_BASE_PATH?.trim()) return gateway.fetch(request, env, ctx);
      let config: AppEnv["Variables"]["config"];
      try {
        config = loadConfig(env);
      } catch (error) {
        return errorResponse(error);
      }
      const url = new URL(request.url);
      if (config.basePath) {
        const rest = stripBasePath(url.pathname, config.basePath);
        if (rest !== null) {
          url.pathname = rest;
          return gateway.fetch(new Request(url, request), env, ctx);
        }
      } else if (ownsPath(url.pathname)) {
        return gateway.fetch(request, env, ctx);
      }
      if (!config.proxy) return errorResponse(notFound());
      return proxy.fetch(request, env, ctx);
    },
  };
}

/** The gateway's API namespace when it shares the root with an origin. */
const OWN_FIRST_SEGMENTS = new Set(["v1", "webhooks", "healthz"]);

function ownsPath(pathname: string): boolean {
  return pathname === ASSERTION_JWKS_PATH || OWN_FIRST_SEGMENTS.has(pathname.split("/")[1] ?? "");
}
