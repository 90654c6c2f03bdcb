import { Hono } from "hono";
import type { GatewayConfig } from "../../config/settings";
import { notFound } from "../../core/errors";
import type { AppEnv } from "../../http/app-env";

/**
 * The browser side: a landing page at `/` (links to the rest, so the root is never a bare 404), the Active devices page, the API reference and the OpenAPI document,
 * all static assets (public/, built by scripts/build-web.mjs). The Worker runs first on
 * every request (`run_worker_first`), so these are the only paths that reach the assets,
 * and HTML gets a Content-Security-Policy that allows exactly what the page talks to.
 */
export const pages = new Hono<AppEnv>();

/** Paths served here rather than by the API (test/openapi.test.ts keeps them out of the document). */
export const PAGE_ROUTES = ["/devices/config.json", "/", "/devices", "/docs", "/openapi.json", "/assets/*"] as const;

/** The emulator's origin when a local dev sign-in is allowed: never on a production instance. */
function devSignInOrigin(env: AppEnv["Bindings"], config: GatewayConfig): string | undefined {
  const raw = env.DEV_SIGN_IN_URL?.trim();
  if (!raw || config.instanceType !== "development") return undefined;
  try {
    return new URL(raw).origin;
  } catch {
    return undefined;
  }
}

/** Clerk's Frontend API origin, where clerk-js is loaded from and talks to. */
const frontendApi = (config: GatewayConfig) => config.issuer;

/** What the /devices page needs to know to get a token: the emulator locally, clerk-js deployed. */
pages.get("/devices/config.json", (c) => {
  const config = c.var.config;
  const emulator = devSignInOrigin(c.env, config);
  return c.json(
    emulator
      ? { mode: "emulator", emulator_url: emulator }
      : { mode: "clerk", publishable_key: config.publishableKey, frontend_api: frontendApi(config) },
  );
});

function pageCsp(env: AppEnv["Bindings"], config: GatewayConfig): string {
  const emulator = devSignInOrigin(env, config);
  // Clerk's documented CSP for clerk-js: its script and API on the Frontend API host,
  // avatars from img.clerk.com, Cloudflare's bot challenge, inline styles it injects.
  const clerk = emulator ? [] : [frontendApi(config)];
  const challenge = emulator ? [] : ["https://challenges.cloudflare.com"];
  return [
    "default-src 'self'",
    `script-src ${["'self'", ...clerk, ...challenge].join(" ")}`,
    `connect-src ${["'self'", ...(emulator ? [emulator] : clerk)].join(" ")}`,
    `style-src 'self'${emulator ? "" : " 'unsafe-inline'"}`,
    `img-src 'self' data:${emulator ? "" : " https://img.clerk.com"}`,
    `frame-src ${emulator ? "'none'" : challenge.join(" ")}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const serveAsset = (path?: string) =>
  pages.get(path ?? "*", async (c) => {
    const assets = c.env.ASSETS;
    if (!assets) throw notFound("Static assets are not configured ([assets] in wrangler.toml)");
    const response = await assets.fetch(c.req.raw);
    if (response.status === 404) throw notFound();
    const headers = new Headers(response.headers);
    if (headers.get("content-type")?.startsWith("text/html")) {
      headers.set("Content-Security-Policy", pageCsp(c.env, c.var.config));
    }
    return new Response(response.body, { status: response.status, headers });
  });

for (const path of PAGE_ROUTES.slice(1)) serveAsset(path);
