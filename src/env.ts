import type { Principal } from "./auth/principal";
import { misconfigured } from "./errors";
import type { RequestMetrics } from "./observability";
import { parsePrefix } from "./proxy/paths";

/**
 * Everything the Worker is given by the platform. Names follow Clerk's own where Clerk
 * has one (docs/design.md, "Configuration"); secrets are set with `wrangler secret put`.
 */
export interface Bindings {
  /** KV: active-session lists, revocation markers, JWKS, webhook ids (docs/kv-schema.md). */
  SESSION_CACHE: KVNamespace;
  /**
   * Rate Limiting bindings (wrangler.toml `[[ratelimits]]`, numbers in src/rate-limit.ts).
   * Optional: an absent binding means no limit of that kind.
   */
  /** Revoke, refresh and token minting, per user. */
  RL_USER_WRITES?: RateLimit;
  /** Failed authentication, per client IP. */
  RL_AUTH_FAILURES?: RateLimit;
  /** Workers static assets: the /devices page, /docs and /openapi.json (public/, built by scripts/build-web.mjs). */
  ASSETS?: Fetcher;
  /** var, local only (`npm start`): the Clerk emulator's origin; the /devices page signs seeded users in through it. Ignored on production instances. */
  DEV_SIGN_IN_URL?: string;
  /** The gateway's calls to Clerk, under Clerk's limit for a production instance (`pk_live_`). */
  RL_UPSTREAM_PRODUCTION?: RateLimit;
  /** The same for a development instance (`pk_test_`), whose Clerk limit is ten times lower. */
  RL_UPSTREAM_DEVELOPMENT?: RateLimit;
  /** The part of that budget reads may use (the rest is kept for writes), per instance type. */
  RL_UPSTREAM_READS_PRODUCTION?: RateLimit;
  RL_UPSTREAM_READS_DEVELOPMENT?: RateLimit;
  /** One caller's share of that budget (per user, service key or address), per instance type. */
  RL_UPSTREAM_CALLER_PRODUCTION?: RateLimit;
  RL_UPSTREAM_CALLER_DEVELOPMENT?: RateLimit;

  /** secret: Backend API key, `sk_test_…` / `sk_live_…`. Required. */
  CLERK_SECRET_KEY?: string;
  /** var: `pk_test_…` / `pk_live_…`; the required token issuer is derived from it. Required. */
  CLERK_PUBLISHABLE_KEY?: string;
  /** var: Backend API origin, default https://api.clerk.com. */
  CLERK_API_URL?: string;
  /** var: sent as `Clerk-API-Version`, default 2026-05-12. */
  CLERK_API_VERSION?: string;
  /** var/secret: PEM public key for networkless verification; else the JWKS is fetched. */
  CLERK_JWT_KEY?: string;
  /** var: comma-separated origins: allowed `azp` values and CORS origins. */
  CLERK_AUTHORIZED_PARTIES?: string;
  /** secret: `whsec_…`, verifies `POST /webhooks/clerk`. */
  CLERK_WEBHOOK_SIGNING_SECRET?: string;
  /** secret: comma-separated keys that make a caller a backend service. */
  GATEWAY_API_KEYS?: string;
  /** var: comma-separated JWT template names users may mint. */
  JWT_TEMPLATES_ALLOWED?: string;
  /** var: seconds a cached active-session list counts as fresh. Default 30; 0 disables the cache (every read goes to Clerk). */
  SESSION_CACHE_TTL_SECONDS?: string;
  /** var: seconds past freshness a cached list may still be served when Clerk fails. Default 3600. */
  SESSION_CACHE_STALE_SECONDS?: string;
  /** var: milliseconds each call to Clerk may take before the gateway gives up on it. Default 5000. */
  UPSTREAM_TIMEOUT_MS?: string;
  /** var: proxy mode; every request the gateway does not serve itself is forwarded here after authentication. */
  ORIGIN_URL?: string;
  /** var: comma-separated path prefixes forwarded to ORIGIN_URL without authentication (matched segment by segment). */
  PUBLIC_PATHS?: string;
  /** var: a path prefix for the gateway's own routes (e.g. `/clerk`), so the origin can own `/v1/…`. */
  GATEWAY_BASE_PATH?: string;
  /** secret: sent to the origin as `X-Gateway-Secret`, so it can tell a request came through the gateway. */
  ORIGIN_SHARED_SECRET?: string;
  /** var: milliseconds the origin may take to send its response headers. Default 30000. */
  ORIGIN_TIMEOUT_MS?: string;
  /** var: "false" removes the caller's Clerk credential (`Authorization`, `__session` cookies) before forwarding. Default true. */
  ORIGIN_FORWARD_CREDENTIALS?: string;
  /** var: comma-separated Backend-API resources (`users`, `organizations`, …) forwarded to Clerk for services. */
  BAPI_PASSTHROUGH?: string;
  /** Optional Rate Limiting binding: requests forwarded to the origin, per user (per IP on public paths). */
  RL_PROXY?: RateLimit;
  /** var: "true" accepts tokens of sessions with pending tasks (`sts: "pending"`). Default false. */
  ALLOW_PENDING_SESSIONS?: string;
  /** var: a user revoking a session must have verified a first factor within this many minutes. Default 60; 0 turns the check off. */
  REVOKE_MAX_FACTOR_AGE_MINUTES?: string;
  /** var: the longest `expires_in_seconds` a user may ask for when minting a token. Default 60 (Clerk's own session-token life); services keep Clerk's range. */
  USER_TOKEN_MAX_SECONDS?: string;
}

/** The one environment type: bindings plus the per-request variables middleware sets. */
export type AppEnv = {
  Bindings: Bindings;
  Variables: {
    config: GatewayConfig;
    principal: Principal;
    metrics: RequestMetrics;
    requestId: string;
  };
};

export type InstanceType = "development" | "production";

export interface GatewayConfig {
  secretKey: string;
  publishableKey: string;
  /** `https://<frontend api host>`: the only accepted `iss`. */
  issuer: string;
  instanceType: InstanceType;
  /** No trailing slash. */
  apiUrl: string;
  apiVersion: string;
  jwtKey: string | undefined;
  authorizedParties: readonly string[];
  webhookSecret: string | undefined;
  serviceKeys: readonly string[];
  templatesAllowed: ReadonlySet<string>;
  sessionCacheTtlSeconds: number;
  sessionCacheStaleSeconds: number;
  allowPendingSessions: boolean;
  revokeMaxFactorAgeMinutes: number;
  userTokenMaxSeconds: number;
  upstreamTimeoutMs: number;
  /** Proxy mode (ORIGIN_URL set), else undefined. */
  proxy: ProxyConfig | undefined;
  /** GATEWAY_BASE_PATH as segments (`/clerk` → ["clerk"]), else undefined: the gateway's routes at the root. */
  basePath: readonly string[] | undefined;
  /** BAPI_PASSTHROUGH: Backend-API resources forwarded to Clerk for services. */
  bapiPassthrough: ReadonlySet<string>;
}

export interface ProxyConfig {
  /** ORIGIN_URL without a trailing slash (it may carry a path prefix). */
  originUrl: string;
  /** PUBLIC_PATHS, each as segments. */
  publicPaths: readonly (readonly string[])[];
  sharedSecret: string | undefined;
  timeoutMs: number;
  /** Whether the caller's `Authorization` header and `__session` cookies reach the origin. */
  forwardCredentials: boolean;
}

export const DEFAULT_API_URL = "https://api.clerk.com";
export const DEFAULT_API_VERSION = "2026-05-12";
const TEMPLATE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A service key shorter than this is too easy to guess to guard a secret-key proxy. */
const MIN_SERVICE_KEY_LENGTH = 20;

/** A shared secret shorter than this is too easy to guess to be worth checking at the origin. */
const MIN_ORIGIN_SECRET_LENGTH = 20;
/** Backend-API resource names as Clerk spells them (`users`, `organization_memberships`, …). */
const BAPI_RESOURCE = /^[a-z][a-z_]{1,63}$/;
/** Served by the gateway itself: never forwarded as-is. */
const OWN_RESOURCES = new Set(["sessions", "me", "jwks"]);

/** Parsed once per isolate per env object: config parsing stays off the hot path. */
const parsed = new WeakMap<object, GatewayConfig>();

export function loadConfig(env: Bindings): GatewayConfig {
  const hit = parsed.get(env);
  if (hit) return hit;
  const config = parseConfig(env);
  parsed.set(env, config);
  return config;
}

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

function intSetting(env: Bindings, name: keyof Bindings, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (typeof raw !== "string" || !/^\d+$/.test(raw.trim())) throw misconfigured(name, "must be a whole number");
  const value = Number(raw.trim());
  if (value < min || value > max) throw misconfigured(name, `must be between ${min} and ${max}`);
  return value;
}

function boolSetting(env: Bindings, name: keyof Bindings, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw misconfigured(name, 'must be "true" or "false"');
}

/**
 * Decodes a publishable key as Clerk's SDK does (`@clerk/shared/keys`):
 * `pk_(test|live)_` + base64(frontendApiHost + "$"), padding optional.
 */
export function parsePublishableKey(key: string): { issuer: string; instanceType: InstanceType } | null {
  const parts = key.split("_");
  if (parts.length !== 3 || parts[0] !== "pk" || (parts[1] !== "test" && parts[1] !== "live")) return null;
  let decoded: string;
  try {
    decoded = atob(parts[2] ?? "");
  } catch {
    return null;
  }
  if (!decoded.endsWith("$") || decoded.indexOf("$") !== decoded.length - 1) return null;
  const host = decoded.slice(0, -1);
  if (!host.includes(".") || !/^[a-z0-9.-]+(:\d+)?$/i.test(host)) return null;
  return { issuer: `https://${host}`, instanceType: parts[1] === "live" ? "production" : "development" };
}

function parseOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.origin === "null" || url.origin !== value.replace(/\/$/, "")) return null;
    return url.origin;
  } catch {
    return null;
  }
}

export function parseConfig(env: Bindings): GatewayConfig {
  const secretKey = env.CLERK_SECRET_KEY?.trim();
  if (!secretKey) throw misconfigured("CLERK_SECRET_KEY", "is missing");
  if (!/^(sk_(test|live)_|test_|live_)\S+$/.test(secretKey)) {
    throw misconfigured("CLERK_SECRET_KEY", "is not a Clerk secret key (expected sk_test_… or sk_live_…)");
  }

  const publishableKey = env.CLERK_PUBLISHABLE_KEY?.trim();
  if (!publishableKey) throw misconfigured("CLERK_PUBLISHABLE_KEY", "is missing");
  const instance = parsePublishableKey(publishableKey);
  if (!instance) throw misconfigured("CLERK_PUBLISHABLE_KEY", "is not a valid Clerk publishable key");

  const rawApiUrl = env.CLERK_API_URL?.trim() || DEFAULT_API_URL;
  let apiUrl: string;
  try {
    const url = new URL(rawApiUrl);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("scheme");
    if (url.search || url.hash) throw new Error("query");
    apiUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  } catch {
    throw misconfigured("CLERK_API_URL", "is not an http(s) URL");
  }

  const apiVersion = env.CLERK_API_VERSION?.trim() || DEFAULT_API_VERSION;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(apiVersion))
    throw misconfigured("CLERK_API_VERSION", "must be a date like 2026-05-12");

  const jwtKey = env.CLERK_JWT_KEY?.trim() || undefined;
  if (jwtKey && !/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----$/.test(jwtKey)) {
    throw misconfigured("CLERK_JWT_KEY", "must be a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }

  const authorizedParties: string[] = [];
  for (const entry of list(env.CLERK_AUTHORIZED_PARTIES)) {
    const origin = parseOrigin(entry);
    if (!origin)
      throw misconfigured("CLERK_AUTHORIZED_PARTIES", "must be comma-separated origins like https://app.example.com");
    authorizedParties.push(origin);
  }

  const webhookSecret = env.CLERK_WEBHOOK_SIGNING_SECRET?.trim() || undefined;
  if (webhookSecret && !/^whsec_[A-Za-z0-9+/=]{16,}$/.test(webhookSecret)) {
    throw misconfigured("CLERK_WEBHOOK_SIGNING_SECRET", "must be a Svix secret (whsec_…)");
  }

  const serviceKeys = list(env.GATEWAY_API_KEYS);
  if (serviceKeys.some((key) => key.length < MIN_SERVICE_KEY_LENGTH || /\s/.test(key))) {
    throw misconfigured(
      "GATEWAY_API_KEYS",
      `entries must be at least ${MIN_SERVICE_KEY_LENGTH} characters without spaces`,
    );
  }
  if (serviceKeys.includes(secretKey)) {
    throw misconfigured("GATEWAY_API_KEYS", "must not contain the Clerk secret key");
  }

  const templates = list(env.JWT_TEMPLATES_ALLOWED);
  if (templates.some((name) => !TEMPLATE_NAME.test(name))) {
    throw misconfigured("JWT_TEMPLATES_ALLOWED", "must be comma-separated template names ([A-Za-z0-9_-], at most 64)");
  }

  return {
    secretKey,
    publishableKey,
    issuer: instance.issuer,
    instanceType: instance.instanceType,
    apiUrl,
    apiVersion,
    jwtKey,
    authorizedParties,
    webhookSecret,
    serviceKeys,
    templatesAllowed: new Set(templates),
    // 0 means no cache at all: every active-session read goes to Clerk (used by `npm run bench`).
    sessionCacheTtlSeconds: intSetting(env, "SESSION_CACHE_TTL_SECONDS", 30, 0, 86_400),
    sessionCacheStaleSeconds: intSetting(env, "SESSION_CACHE_STALE_SECONDS", 3_600, 0, 7 * 86_400),
    allowPendingSessions: boolSetting(env, "ALLOW_PENDING_SESSIONS", false),
    revokeMaxFactorAgeMinutes: intSetting(env, "REVOKE_MAX_FACTOR_AGE_MINUTES", 60, 0, 525_600),
    // At most six days: the longest lifetime the gateway accepts at all (src/auth/session-token.ts).
    userTokenMaxSeconds: intSetting(env, "USER_TOKEN_MAX_SECONDS", 60, 30, 6 * 86_400),
    upstreamTimeoutMs: intSetting(env, "UPSTREAM_TIMEOUT_MS", 5_000, 50, 60_000),
    proxy: parseProxy(env),
    basePath: parseBasePath(env),
    bapiPassthrough: parsePassthrough(env),
  };
}

function parseProxy(env: Bindings): ProxyConfig | undefined {
  const raw = env.ORIGIN_URL?.trim();
  const secret = env.ORIGIN_SHARED_SECRET?.trim() || undefined;
  if (!raw) {
    // Settings that only mean something with an origin are a mistake without one.
    if (list(env.PUBLIC_PATHS).length > 0) throw misconfigured("PUBLIC_PATHS", "needs ORIGIN_URL");
    if (secret) throw misconfigured("ORIGIN_SHARED_SECRET", "needs ORIGIN_URL");
    return undefined;
  }
  let originUrl: string;
  try {
    const url = new URL(raw);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("scheme");
    if (url.search || url.hash || url.username || url.password) throw new Error("extra");
    originUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  } catch {
    throw misconfigured("ORIGIN_URL", "must be an http(s) URL without query, fragment or credentials");
  }
  const publicPaths = list(env.PUBLIC_PATHS).map((entry) => {
    const segments = parsePrefix(entry);
    if (!segments) {
      throw misconfigured(
        "PUBLIC_PATHS",
        "must be comma-separated paths like /public,/assets (not /; letters, digits and . _ ~ - only)",
      );
    }
    return segments;
  });
  if (secret && (secret.length < MIN_ORIGIN_SECRET_LENGTH || /\s/.test(secret))) {
    throw misconfigured(
      "ORIGIN_SHARED_SECRET",
      `must be at least ${MIN_ORIGIN_SECRET_LENGTH} characters without spaces`,
    );
  }
  return {
    originUrl,
    publicPaths,
    sharedSecret: secret,
    timeoutMs: intSetting(env, "ORIGIN_TIMEOUT_MS", 30_000, 100, 300_000),
    forwardCredentials: boolSetting(env, "ORIGIN_FORWARD_CREDENTIALS", true),
  };
}

function parseBasePath(env: Bindings): readonly string[] | undefined {
  const raw = env.GATEWAY_BASE_PATH?.trim();
  if (!raw || raw === "/") return undefined;
  const segments = parsePrefix(raw);
  if (!segments) throw misconfigured("GATEWAY_BASE_PATH", "must be a path like /clerk (letters, digits and . _ ~ -)");
  return segments;
}

function parsePassthrough(env: Bindings): ReadonlySet<string> {
  const names = list(env.BAPI_PASSTHROUGH);
  for (const name of names) {
    if (!BAPI_RESOURCE.test(name)) {
      throw misconfigured(
        "BAPI_PASSTHROUGH",
        "must be comma-separated Backend-API resource names like users,organizations",
      );
    }
    if (OWN_RESOURCES.has(name)) {
      throw misconfigured("BAPI_PASSTHROUGH", `must not name ${name}, which the gateway serves itself`);
    }
  }
  return new Set(names);
}
