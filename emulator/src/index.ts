/**
 * clerk-emulator: a local stand-in for Clerk's Backend API (sessions, users, JWKS, tokens),
 * its session webhooks, plus dev and test controls. See emulator/README.md.
 *
 * Every request enters through `fetch` below. `/v1/*` goes through the Clerk pipeline
 * (call log → latency → fault → secret key → API version → route → after-commit fault);
 * `/__dev/*` and `/__emulator/*` go straight to their routes.
 */
import { Hono } from "hono";
import { type CallRecord, recordCall } from "./calls";
import { cookieNames } from "./clients";
import { type Config, type Env, loadConfig } from "./config";
import { bindContext, contextOf, type RequestContext, sleep } from "./context";
import { ClerkApiError, Errors, errorResponse, toResponse } from "./errors";
import { DropConnection, faultResponse, slowDelay, takeFault } from "./faults";
import { randomHex } from "./ids";
import { machineBySecretKey } from "./machines";
import { admin } from "./routes/admin";
import { bapi } from "./routes/bapi";
import { dev } from "./routes/dev";
import { fapi } from "./routes/fapi";
import { machine } from "./routes/machine";
import { origin } from "./routes/origin";
import { getStore } from "./state";
import { jwks } from "./tokens";

export type { Env } from "./config";

/** API versions Clerk's docs list; `Clerk-API-Version` must be one of them when sent. */
export const KNOWN_API_VERSIONS = ["2021-02-05", "2024-10-01", "2025-04-10", "2025-11-10", "2026-05-12"];

const app = new Hono();
app.route("/v1", bapi);
app.route("/v1", machine);
// @clerk/backend calls the machine-auth endpoints without the version segment (skipApiVersionInUrl).
app.route("/", machine);
app.route("/__dev", dev);
app.route("/__emulator", admin);
app.route("/__origin", origin);

// Frontend API's public JWKS, for verifiers that go by `iss` (in tests every host reaches here).
app.get("/.well-known/jwks.json", async (c) => c.json(await jwks(contextOf(c.req.raw).config)));

app.get("/", (c) => {
  const { config } = contextOf(c.req.raw);
  return c.json({
    name: "clerk-emulator",
    issuer: config.issuer,
    instance_id: config.instanceId,
    webhook_url: config.webhookUrl,
    docs: "emulator/README.md",
  });
});

app.notFound((c) => toResponse(Errors.resourceNotFound(), contextOf(c.req.raw).traceId));

app.onError((err, c) => {
  if (err instanceof DropConnection) throw err;
  const { traceId } = contextOf(c.req.raw);
  if (err instanceof ClerkApiError) return toResponse(err, traceId);
  console.error("clerk-emulator: unhandled error", err);
  return toResponse(Errors.internal(), traceId);
});

type AuthResult = "ok" | "missing" | "invalid";

/** Paths of the Backend API that Clerk also serves at the API root (machine auth). */
const ROOT_BAPI = /^\/(api_keys|m2m_tokens|oauth_applications|machines)(\/|$)/;
/** Where a machine secret key may stand in for the instance secret key. */
const MACHINE_KEY_PATHS = /^(\/v1)?\/m2m_tokens(\/|$)/;

function isBapiPath(pathname: string): boolean {
  return pathname === "/v1" || pathname.startsWith("/v1/") || ROOT_BAPI.test(pathname);
}

function checkSecretKey(header: string | null, rc: RequestContext, pathname: string): AuthResult {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return "missing";
  if (match[1] === rc.config.secretKey) return "ok";
  if (MACHINE_KEY_PATHS.test(pathname)) {
    const found = machineBySecretKey(rc.store, match[1]);
    if (found) {
      rc.machineId = found.id;
      return "ok";
    }
  }
  return "invalid";
}

function apiVersionError(request: Request, url: URL): ClerkApiError | null {
  const header = request.headers.get("clerk-api-version");
  const query = url.searchParams.get("__clerk_api_version");
  if (header !== null && query !== null) {
    return Errors.apiVersionInvalid(
      "Set the API version with the Clerk-API-Version header or the query parameter, not both.",
    );
  }
  const version = header ?? query;
  if (version !== null && !KNOWN_API_VERSIONS.includes(version)) {
    return Errors.apiVersionInvalid(`${version} is not a supported API version (${KNOWN_API_VERSIONS.join(", ")}).`);
  }
  return null;
}

async function routeBapi(
  request: Request,
  url: URL,
  auth: AuthResult,
  rc: RequestContext,
  env: Env,
  ctx: ExecutionContext,
) {
  if (auth === "missing") return toResponse(Errors.authenticationInvalid(), rc.traceId);
  if (auth === "invalid") return toResponse(Errors.clerkKeyInvalid(), rc.traceId);
  const versionError = apiVersionError(request, url);
  if (versionError) return toResponse(versionError, rc.traceId);
  return app.fetch(request, env, ctx);
}

async function handleBapi(request: Request, url: URL, rc: RequestContext, env: Env, ctx: ExecutionContext) {
  const auth = checkSecretKey(request.headers.get("authorization"), rc, url.pathname);
  const bodyText = request.method === "GET" || request.method === "HEAD" ? "" : await request.clone().text();
  const call = recordCall({
    method: request.method,
    host: url.host,
    path: url.pathname,
    search: url.search,
    at: Date.now(),
    auth_ok: auth === "ok",
    api_version: request.headers.get("clerk-api-version"),
    user_agent: request.headers.get("user-agent"),
    content_type: request.headers.get("content-type"),
    body: bodyText === "" ? null : bodyText,
    fault: null,
    ...NOT_FAPI,
  });
  if (rc.config.latencyMs > 0) await sleep(rc.config.latencyMs);

  const fault = takeFault(request.method, url.pathname);
  if (fault) call.fault = fault.after ? `${fault.mode} (after)` : fault.mode;
  if (fault && !fault.after) {
    if (fault.mode !== "slow") return faultResponse(fault, rc.traceId);
    await sleep(slowDelay(fault));
  }
  const response = await routeBapi(request, url, auth, rc, env, ctx);
  if (fault?.after) {
    if (fault.mode === "slow") {
      await sleep(slowDelay(fault));
      return response;
    }
    // The state change has been committed; only the answer is lost or mangled.
    await response.body?.cancel();
    return faultResponse(fault, rc.traceId);
  }
  return response;
}

const NOT_FAPI = {
  api: "bapi",
  proxy_url: null,
  proxy_secret_key: null,
  origin: null,
  cookies: null,
  forwarded_for: null,
} as const satisfies Partial<CallRecord>;

/** The Frontend API's shared host, which Clerk's own proxy helpers forward to (`clerkFrontendApiProxy`). */
const SHARED_FAPI_HOST = "frontend-api.clerk.dev";
/** The path prefix that mounts the Frontend API on any host (for `npm start`, where hosts can't be faked). */
const FAPI_PREFIX = "/__fapi";

/** The Frontend API path of a request (`/v1/…`), or null when it is not a FAPI request. */
function fapiPath(url: URL, config: Config): string | null {
  if (url.pathname === FAPI_PREFIX || url.pathname.startsWith(`${FAPI_PREFIX}/`)) {
    return url.pathname.slice(FAPI_PREFIX.length) || "/";
  }
  // The public JWKS stays unlogged on every host.
  if (url.pathname.startsWith("/.well-known/")) return null;
  const fapiHost = new URL(config.issuer).hostname;
  return url.hostname === fapiHost || url.hostname === SHARED_FAPI_HOST ? url.pathname : null;
}

const FAPI_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** Clerk's FAPI answers browsers from any origin of a development instance, with credentials. */
function withCors(response: Response, request: Request): Response {
  const origin = request.headers.get("origin");
  if (!origin) return response;
  const copy = new Response(response.body, response);
  copy.headers.set("access-control-allow-origin", origin);
  copy.headers.set("access-control-allow-credentials", "true");
  copy.headers.set("access-control-expose-headers", "Authorization, Clerk-Db-Jwt, X-Clerk-Trace-Id");
  copy.headers.append("vary", "Origin");
  return copy;
}

function preflight(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-methods": FAPI_METHODS.join(", "),
      "access-control-allow-headers":
        request.headers.get("access-control-request-headers") ?? "Authorization, Content-Type",
      "access-control-max-age": "600",
    },
  });
}

/** A form body with the password replaced, for the call log. */
function loggedBody(text: string): string | null {
  if (text === "") return null;
  if (!/(^|&)password=/.test(text)) return text;
  const params = new URLSearchParams(text);
  params.set("password", "[redacted]");
  return params.toString();
}

/**
 * The Frontend API pipeline: call log → latency → fault (`api: "fapi"` rules) → preflight →
 * proxy headers (`Clerk-Proxy-Url` needs the instance's `Clerk-Secret-Key`; the shared host needs
 * both) → `_method` → route → CORS.
 */
async function handleFapi(
  request: Request,
  url: URL,
  path: string,
  rc: RequestContext,
  env: Env,
  ctx: ExecutionContext,
): Promise<Response> {
  const override = url.searchParams.get("_method")?.toUpperCase();
  const method = request.method === "POST" && override && FAPI_METHODS.includes(override) ? override : request.method;
  const proxyUrl = request.headers.get("clerk-proxy-url");
  const proxyKey = request.headers.get("clerk-secret-key");
  const proxyKeyState = proxyKey === null ? null : proxyKey === rc.config.secretKey ? "ok" : "invalid";
  const bodyText = request.method === "GET" || request.method === "HEAD" ? "" : await request.clone().text();
  const call = recordCall({
    method,
    host: url.host,
    path,
    search: url.search,
    at: Date.now(),
    auth_ok: proxyKeyState !== "invalid" && !(proxyUrl !== null && proxyKeyState === null),
    api_version: url.searchParams.get("__clerk_api_version"),
    user_agent: request.headers.get("user-agent"),
    content_type: request.headers.get("content-type"),
    body: loggedBody(bodyText),
    fault: null,
    api: "fapi",
    proxy_url: proxyUrl,
    proxy_secret_key: proxyKeyState,
    origin: request.headers.get("origin"),
    cookies: cookieNames(request),
    forwarded_for: request.headers.get("x-forwarded-for"),
  });
  if (rc.config.latencyMs > 0) await sleep(rc.config.latencyMs);
  const fault = takeFault(method, path, "fapi");
  if (fault) call.fault = fault.after ? `${fault.mode} (after)` : fault.mode;
  if (fault && !fault.after) {
    if (fault.mode !== "slow") return withCors(await faultResponse(fault, rc.traceId), request);
    await sleep(slowDelay(fault));
  }
  if (request.method === "OPTIONS") return withCors(preflight(request), request);
  let refusal: ClerkApiError | null = null;
  if (proxyKeyState === "invalid") refusal = Errors.proxyInvalidSecretKey();
  else if (proxyUrl !== null && proxyKeyState === null) refusal = Errors.proxyMissingSecretKey();
  else if (url.hostname === SHARED_FAPI_HOST && proxyUrl === null) refusal = Errors.hostInvalid();
  if (refusal) return withCors(toResponse(refusal, rc.traceId), request);

  const inner = new URL(url);
  inner.pathname = path;
  inner.searchParams.delete("_method");
  const routed = new Request(inner, {
    method,
    headers: request.headers,
    body: bodyText === "" || method === "GET" || method === "HEAD" ? undefined : bodyText,
    redirect: "manual",
  });
  bindContext(routed, rc);
  const response = withCors(await fapi.fetch(routed, env, ctx), request);
  if (fault?.after) {
    if (fault.mode === "slow") {
      await sleep(slowDelay(fault));
      return response;
    }
    await response.body?.cancel();
    return withCors(await faultResponse(fault, rc.traceId), request);
  }
  return response;
}

function withTraceHeader(response: Response, traceId: string): Response {
  try {
    response.headers.set("x-clerk-trace-id", traceId);
    return response;
  } catch {
    // Immutable headers (a response passed through from elsewhere): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set("x-clerk-trace-id", traceId);
    return copy;
  }
}

function clientIp(request: Request): string {
  return (
    request.headers.get("cf-connecting-ip") ??
    request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() ??
    "127.0.0.1"
  );
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const traceId = randomHex(16);
    let config: Config;
    try {
      config = loadConfig(env);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return withTraceHeader(
        errorResponse(
          500,
          [{ code: "emulator_misconfigured", message: "Emulator misconfigured", long_message: message }],
          traceId,
        ),
        traceId,
      );
    }
    const rc: RequestContext = {
      config,
      store: getStore(config.defaultAzp),
      traceId,
      clientIp: clientIp(request),
      userAgent: request.headers.get("user-agent") ?? "",
      waitUntil: (promise) => ctx.waitUntil(promise),
    };
    bindContext(request, rc);
    const url = new URL(request.url);
    const frontend = fapiPath(url, config);
    // A DropConnection escapes on purpose: the caller's fetch() then fails like a reset connection.
    const response =
      frontend !== null
        ? await handleFapi(request, url, frontend, rc, env, ctx)
        : isBapiPath(url.pathname)
          ? await handleBapi(request, url, rc, env, ctx)
          : await app.fetch(request, env, ctx);
    return withTraceHeader(response, traceId);
  },
} satisfies ExportedHandler<Env>;
