import { Hono } from "hono";
import { invalidParam, notFound } from "../../core/errors";
import type { AppEnv } from "../../http/app-env";
import { authenticate } from "../../http/auth-middleware";

/**
 * `BAPI_PASSTHROUGH`: the rest of Clerk's Backend API for services, so one `@clerk/backend`
 * client pointed at the gateway works for `users`, `organizations`, … as well as sessions.
 * Only the resources the operator names are forwarded; every other `/v1` path is a 404 that
 * names the setting. The path is validated segment by segment before any URL is built from
 * it, so nothing a caller sends can move the request to another Clerk path.
 */
export const passthrough = new Hono<AppEnv>();

/** One path segment of a Backend-API URL: ids (`user_…`), slugs, sub-resource names. No `%`, no dots alone. */
const SEGMENT = /^[A-Za-z0-9_~:@=+.-]{1,128}$/;
/** Served by the gateway's own routes; an unmatched path under them is an ordinary 404. */
const OWN = new Set(["sessions", "me", "jwks"]);
/** What the Backend API accepts; anything else never leaves the gateway. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

type Target = { resource: string; path: string };

/** The validated `/v1/...` tail, or a 400 naming the path. */
function target(pathname: string): Target {
  const tail = pathname.replace(/^\/v1\//, "");
  const segments = tail.split("/");
  if (segments.at(-1) === "") segments.pop();
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || segment === "." || segment === "..") {
      throw invalidParam("path", "The request path holds a segment the Backend API does not use");
    }
  }
  const resource = segments[0] ?? "";
  return { resource, path: `/${segments.join("/")}` };
}

passthrough.all("/*", async (c, next) => {
  // c.req.path is the decoded-once URL path the runtime parsed; the raw URL is checked instead.
  const { resource } = target(new URL(c.req.url).pathname);
  if (!resource || OWN.has(resource)) throw notFound();
  if (!c.var.config.bapiPassthrough.has(resource)) {
    throw notFound(
      `The Backend API resource "${resource}" is not forwarded by this gateway; an operator can enable it with BAPI_PASSTHROUGH`,
    );
  }
  if (!METHODS.has(c.req.method)) throw notFound();
  await next();
});

passthrough.all("/*", authenticate({ allow: ["service"] }), async (c) => {
  const url = new URL(c.req.url);
  const { path } = target(url.pathname);
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  const apiVersion = c.req.header("Clerk-API-Version")?.trim();
  return c.var.clerk.forward({
    method: c.req.method,
    path,
    search: url.search,
    body: hasBody ? await c.req.arrayBuffer() : undefined,
    contentType: hasBody ? c.req.header("Content-Type") : undefined,
    apiVersion: apiVersion && /^\d{4}-\d{2}-\d{2}$/.test(apiVersion) ? apiVersion : undefined,
  });
});
