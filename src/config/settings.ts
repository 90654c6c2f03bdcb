/**
 * @module
 * The gateway's settings, each defined once in {@link SETTINGS}: its name, kind, default,
 * description and parser. The configuration (`parseConfig`), the `ConfigBindings` type, the
 * README's configuration table and `.dev.vars.example` all follow this table (a test checks
 * the last two). Names follow Clerk's own where Clerk has one (docs/design.md,
 * "Configuration"); secrets are set with
 * `wrangler secret put`. A bad setting is reported by name, never by value.
 */

import { type PublishableKeyInstance, parsePublishableKey } from "../clerk/keys";
import { misconfigured } from "../core/errors";
import { TEMPLATE_NAME } from "../core/ids";
import { isolateMap, jsonBytes } from "../core/isolate-memory";
import { type PrivateJwk, parseAssertionKeys } from "./assertion-keys";
import { parsePrefix } from "./paths";

export type InstanceType = PublishableKeyInstance["instanceType"];

/** Where a setting is set: `wrangler.toml` [vars], `wrangler secret put`, or either. */
export type SettingKind = "var" | "secret" | "var/secret";

export type Setting<T> = {
  kind: SettingKind;
  /** What the setting means, as the README's configuration table says it (markdown). */
  description: string;
  /** What an unset setting means, as the README's table says it ("required" when there is none). */
  default: string;
  /** The raw value (undefined when unset) to what the gateway uses; throws `misconfigured` naming the setting. */
  parse: (raw: string | undefined, name: string) => T;
};

const setting = <T>(definition: Setting<T>): Setting<T> => definition;

const DEFAULT_API_URL = "https://api.clerk.com";
const DEFAULT_API_VERSION = "2026-05-12";
/** A service key shorter than this is too easy to guess to guard a secret-key proxy. */
const MIN_SERVICE_KEY_LENGTH = 20;
/** A shared secret shorter than this is too easy to guess to be worth checking at the origin. */
const MIN_ORIGIN_SECRET_LENGTH = 20;
/** Backend-API resource names as Clerk spells them (`users`, `organization_memberships`, …). */
const BAPI_RESOURCE = /^[a-z][a-z_]{1,63}$/;
/** Served by the gateway itself: never forwarded as-is. */
const OWN_RESOURCES: ReadonlySet<string> = new Set(["sessions", "me", "jwks"]);

const trimmed = (raw: string | undefined): string | undefined => raw?.trim() || undefined;

const list = (raw: string | undefined): string[] =>
  (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** `value` itself, unless it is set and does not match `pattern`. */
function matching<V extends string | undefined>(value: V, name: string, pattern: RegExp, problem: string): V {
  if (value !== undefined && !pattern.test(value)) throw misconfigured(name, problem);
  return value;
}

function required(raw: string | undefined, name: string): string {
  const value = trimmed(raw);
  if (!value) throw misconfigured(name, "is missing");
  return value;
}

const wholeNumber = (fallback: number, min: number, max: number) => (raw: string | undefined, name: string) => {
  const value = trimmed(raw);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw misconfigured(name, "must be a whole number");
  const number = Number(value);
  if (number < min || number > max) throw misconfigured(name, `must be between ${min} and ${max}`);
  return number;
};

const flag = (fallback: boolean) => (raw: string | undefined, name: string) => {
  const value = trimmed(raw);
  if (value === undefined) return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw misconfigured(name, 'must be "true" or "false"');
};

/**
 * An http(s) URL with no query, fragment or credentials, as origin + path without a trailing
 * slash (Clerk's API and a proxied origin may both sit under a path prefix).
 */
function httpUrl(value: string, name: string, problem: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw misconfigured(name, problem);
  }
  const http = url.protocol === "https:" || url.protocol === "http:";
  if (!http || url.search || url.hash || url.username || url.password) throw misconfigured(name, problem);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
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

/**
 * Every setting the gateway reads, in the order the README lists them. Bindings that are
 * not settings (KV, rate limiters, assets) are in `PlatformBindings` below.
 */
export const SETTINGS = {
  CLERK_SECRET_KEY: setting({
    kind: "secret",
    description: "Backend API key (`sk_…`)",
    default: "required",
    parse: (raw, name) =>
      matching(
        required(raw, name),
        name,
        /^(sk_(test|live)_|test_|live_)\S+$/,
        "is not a Clerk secret key (expected sk_test_… or sk_live_…)",
      ),
  }),
  CLERK_PUBLISHABLE_KEY: setting({
    kind: "var",
    description: "`pk_…`; every token's `iss` must be the Frontend API it encodes",
    default: "required",
    parse: (raw, name) => {
      const publishableKey = required(raw, name);
      const instance = parsePublishableKey(publishableKey);
      if (!instance) throw misconfigured(name, "is not a valid Clerk publishable key");
      return { publishableKey, ...instance };
    },
  }),
  CLERK_API_URL: setting({
    kind: "var",
    description: "Backend API origin",
    default: `\`${DEFAULT_API_URL}\``,
    parse: (raw, name) => httpUrl(trimmed(raw) ?? DEFAULT_API_URL, name, "is not an http(s) URL"),
  }),
  CLERK_API_VERSION: setting({
    kind: "var",
    description: "sent as `Clerk-API-Version`; `v1` (what Clerk's SDKs mean by it) keeps the default",
    default: `\`${DEFAULT_API_VERSION}\``,
    parse: (raw, name) => {
      // @clerk/backend and @clerk/hono read this variable as the Backend API's path version (`v1`):
      // an app moving over from them keeps its environment, and gets the dated default here.
      const value = trimmed(raw);
      if (value === undefined || value === "v1") return DEFAULT_API_VERSION;
      return matching(value, name, /^\d{4}-\d{2}-\d{2}$/, "must be a date like 2026-05-12 (or v1)");
    },
  }),
  CLERK_JWT_KEY: setting({
    kind: "var/secret",
    description: "PEM public key: verify with no JWKS fetch at all",
    default: "JWKS from `{CLERK_API_URL}/v1/jwks`",
    parse: (raw, name) =>
      matching(
        trimmed(raw),
        name,
        /^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----$/,
        "must be a PEM public key (-----BEGIN PUBLIC KEY-----)",
      ),
  }),
  CLERK_AUTHORIZED_PARTIES: setting({
    kind: "var",
    description: "comma-separated origins: allowed `azp` values and CORS origins",
    default: "none",
    parse: (raw, name): readonly string[] =>
      list(raw).map((entry) => {
        const origin = parseOrigin(entry);
        if (!origin) throw misconfigured(name, "must be comma-separated origins like https://app.example.com");
        return origin;
      }),
  }),
  CLERK_WEBHOOK_SIGNING_SECRET: setting({
    kind: "secret",
    description:
      "`whsec_…` for `POST /webhooks/clerk`; checked when a webhook arrives, so only that route fails without it",
    default: "webhooks answer 500 without it",
    // Checked where it is used: a missing or bad webhook secret must not take down the other routes.
    parse: (raw, name) => (): string =>
      matching(required(raw, name), name, /^whsec_[A-Za-z0-9+/=]{16,}$/, "must be a Svix secret (whsec_…)"),
  }),
  GATEWAY_API_KEYS: setting({
    kind: "secret",
    description: "comma-separated service keys (≥ 20 characters each)",
    default: "no services",
    parse: (raw, name): readonly string[] => {
      const keys = list(raw);
      if (keys.some((key) => key.length < MIN_SERVICE_KEY_LENGTH || /\s/.test(key))) {
        throw misconfigured(name, `entries must be at least ${MIN_SERVICE_KEY_LENGTH} characters without spaces`);
      }
      return keys;
    },
  }),
  JWT_TEMPLATES_ALLOWED: setting({
    kind: "var",
    description: "comma-separated template names users may mint",
    default: "none",
    parse: (raw, name): ReadonlySet<string> => {
      const names = list(raw);
      if (names.some((template) => !TEMPLATE_NAME.test(template))) {
        throw misconfigured(name, "must be comma-separated template names ([A-Za-z0-9_-], at most 64)");
      }
      return new Set(names);
    },
  }),
  SESSION_CACHE_TTL_SECONDS: setting({
    kind: "var",
    description: "how long a cached active-session list is fresh; 0 turns the cache off",
    default: "30",
    // 0 means no cache at all: every active-session read goes to Clerk (used by `npm run bench`).
    parse: wholeNumber(30, 0, 86_400),
  }),
  SESSION_CACHE_STALE_SECONDS: setting({
    kind: "var",
    description: "how much longer it may be served (`X-Cache: STALE`) while Clerk fails",
    default: "3600",
    parse: wholeNumber(3_600, 0, 7 * 86_400),
  }),
  UPSTREAM_TIMEOUT_MS: setting({
    kind: "var",
    description: "how long each call to Clerk may take",
    default: "5000",
    parse: wholeNumber(5_000, 50, 60_000),
  }),
  ALLOW_PENDING_SESSIONS: setting({
    kind: "var",
    description: "accept tokens of sessions with pending tasks",
    default: "false",
    parse: flag(false),
  }),
  REVOKE_MAX_FACTOR_AGE_MINUTES: setting({
    kind: "var",
    description: "first-factor age needed to remove another device; 0 turns it off",
    default: "60",
    parse: wholeNumber(60, 0, 525_600),
  }),
  USER_TOKEN_MAX_SECONDS: setting({
    kind: "var",
    description: "longest `expires_in_seconds` a user may mint (services keep Clerk's range)",
    default: "60",
    // At most six days: the longest lifetime the gateway accepts at all (src/auth/session-token.ts).
    parse: wholeNumber(60, 30, 6 * 86_400),
  }),
  BAPI_PASSTHROUGH: setting({
    kind: "var",
    description:
      "Backend-API resources forwarded to Clerk for services ([below](#pointing-the-whole-clerkbackend-client-at-the-gateway))",
    default: "none",
    parse: (raw, name): ReadonlySet<string> => {
      const names = list(raw);
      for (const resource of names) {
        if (!BAPI_RESOURCE.test(resource)) {
          throw misconfigured(name, "must be comma-separated Backend-API resource names like users,organizations");
        }
        if (OWN_RESOURCES.has(resource)) {
          throw misconfigured(name, `must not name ${resource}, which the gateway serves itself`);
        }
      }
      return new Set(names);
    },
  }),
  ORIGIN_URL: setting({
    kind: "var",
    description:
      "proxy mode ([below](#proxy-in-front-of-an-origin-origin_url)): every request the gateway does not serve itself is forwarded here after authentication",
    default: "off",
    parse: (raw, name) => {
      const value = trimmed(raw);
      return value && httpUrl(value, name, "must be an http(s) URL without query, fragment or credentials");
    },
  }),
  PUBLIC_PATHS: setting({
    kind: "var",
    description:
      "comma-separated path prefixes forwarded to `ORIGIN_URL` without authentication (matched segment by segment)",
    default: "none",
    parse: (raw, name): readonly (readonly string[])[] =>
      list(raw).map((entry) => {
        const segments = parsePrefix(entry);
        if (!segments) {
          throw misconfigured(
            name,
            "must be comma-separated paths like /public,/assets (not /; letters, digits and . _ ~ - only)",
          );
        }
        return segments;
      }),
  }),
  GATEWAY_BASE_PATH: setting({
    kind: "var",
    description: "a path prefix for the gateway's own routes (e.g. `/clerk`), so the origin can own `/v1/…`",
    default: "none: the routes at the root",
    parse: (raw, name): readonly string[] | undefined => {
      const value = trimmed(raw);
      if (!value || value === "/") return undefined;
      const segments = parsePrefix(value);
      if (!segments) throw misconfigured(name, "must be a path like /clerk (letters, digits and . _ ~ -)");
      return segments;
    },
  }),
  ORIGIN_SHARED_SECRET: setting({
    kind: "secret",
    description: "sent to the origin as `X-Gateway-Secret`, so it can tell a request came through the gateway",
    default: "none",
    parse: (raw, name) => {
      const value = trimmed(raw);
      if (value && (value.length < MIN_ORIGIN_SECRET_LENGTH || /\s/.test(value))) {
        throw misconfigured(name, `must be at least ${MIN_ORIGIN_SECRET_LENGTH} characters without spaces`);
      }
      return value;
    },
  }),
  ORIGIN_ASSERTION_KEYS: setting({
    kind: "secret",
    description:
      "a private JWK (Ed25519 or P-256, `npm run assertion-key`) or a JSON array of them: the first signs the origin's `X-Gateway-Assertion`, all are published at `/.well-known/gateway-jwks.json` ([below](#what-the-origin-receives))",
    default: "none: no assertion",
    parse: (raw, name): readonly PrivateJwk[] | undefined => {
      const value = trimmed(raw);
      return value === undefined ? undefined : parseAssertionKeys(value, name);
    },
  }),
  ORIGIN_TIMEOUT_MS: setting({
    kind: "var",
    description: "how long the origin may take to send its response headers",
    default: "30000",
    parse: wholeNumber(30_000, 100, 300_000),
  }),
  ORIGIN_FORWARD_CREDENTIALS: setting({
    kind: "var",
    description:
      "`false` removes the caller's Clerk credential (`Authorization`, `__session` cookies) before forwarding",
    default: "true",
    parse: flag(true),
  }),
  DEV_SIGN_IN_URL: setting({
    kind: "var",
    description:
      "local only (`npm start` sets it): the Clerk emulator's origin, through which `/devices` signs seeded users in; ignored on `pk_live_` instances",
    default: "none",
    // Read by the pages, which ignore a value that is not a URL: it only ever turns a local convenience on.
    parse: (raw) => trimmed(raw),
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;

/** Bindings the platform provides that are not settings. */
export interface PlatformBindings {
  /** KV: active-session lists, revocation markers, JWKS, webhook ids (docs/kv-schema.md). */
  SESSION_CACHE: KVNamespace;
  /**
   * Rate Limiting bindings (wrangler.toml `[[ratelimits]]`, numbers in src/config/rate-limits.ts).
   * Optional: an absent binding means no limit of that kind.
   */
  /** Revoke, refresh and token minting, per user. */
  RL_USER_WRITES?: RateLimit;
  /** Failed authentication, per client IP. */
  RL_AUTH_FAILURES?: RateLimit;
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
  /** Requests forwarded to the origin, per user (per IP on public paths). */
  RL_PROXY?: RateLimit;
  /** Workers static assets: the /devices page, /docs and /openapi.json (public/, built by scripts/build-web.mjs). */
  ASSETS?: Fetcher;
}

/**
 * What the configuration reads: the platform's bindings above and every setting, as the raw
 * strings they arrive as. The Worker's whole `Bindings` (http/app-env.ts) adds the revocation
 * authority's Durable Object namespace, a type of a layer above this one.
 */
export type ConfigBindings = PlatformBindings & { [Name in SettingName]?: string };

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
  /**
   * Set only by the app middleware when no authorized parties are configured anywhere, as
   * `@clerk/hono` runs by default: `azp` is not checked, and a cookie-authenticated write must
   * come from the request's own origin. The standalone gateway never sets it.
   */
  azpUnchecked?: true;
  /** The webhook signing secret, checked on use: throws `misconfigured` when it is missing or malformed. */
  webhookSecret: () => string;
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
  /** ORIGIN_ASSERTION_KEYS (the first signs), else undefined: no assertion is sent. */
  assertionKeys: readonly PrivateJwk[] | undefined;
  timeoutMs: number;
  /** Whether the caller's `Authorization` header and `__session` cookies reach the origin. */
  forwardCredentials: boolean;
}

/** What the configuration middleware sets on each request. */
export type ConfigVariables = { config: GatewayConfig };

/** The parsed configuration of the current request. */
export const configOf = (c: { var: ConfigVariables }): GatewayConfig => c.var.config;

/** Parsed once per isolate per env object: config parsing stays off the hot path. */
const parsed = isolateMap<ConfigBindings, GatewayConfig>("configs", jsonBytes);

export function loadConfig(env: ConfigBindings): GatewayConfig {
  const hit = parsed.get(env);
  if (hit) return hit;
  const config = parseConfig(env);
  parsed.set(env, config);
  return config;
}

const read = <Name extends SettingName>(
  env: ConfigBindings,
  name: Name,
): ReturnType<(typeof SETTINGS)[Name]["parse"]> =>
  SETTINGS[name].parse(env[name], name) as ReturnType<(typeof SETTINGS)[Name]["parse"]>;

export function parseConfig(env: ConfigBindings): GatewayConfig {
  const secretKey = read(env, "CLERK_SECRET_KEY");
  const instance = read(env, "CLERK_PUBLISHABLE_KEY");
  const serviceKeys = read(env, "GATEWAY_API_KEYS");
  if (serviceKeys.includes(secretKey)) {
    throw misconfigured("GATEWAY_API_KEYS", "must not contain the Clerk secret key");
  }
  return {
    secretKey,
    publishableKey: instance.publishableKey,
    issuer: instance.issuer,
    instanceType: instance.instanceType,
    apiUrl: read(env, "CLERK_API_URL"),
    apiVersion: read(env, "CLERK_API_VERSION"),
    jwtKey: read(env, "CLERK_JWT_KEY"),
    authorizedParties: read(env, "CLERK_AUTHORIZED_PARTIES"),
    webhookSecret: read(env, "CLERK_WEBHOOK_SIGNING_SECRET"),
    serviceKeys,
    templatesAllowed: read(env, "JWT_TEMPLATES_ALLOWED"),
    sessionCacheTtlSeconds: read(env, "SESSION_CACHE_TTL_SECONDS"),
    sessionCacheStaleSeconds: read(env, "SESSION_CACHE_STALE_SECONDS"),
    allowPendingSessions: read(env, "ALLOW_PENDING_SESSIONS"),
    revokeMaxFactorAgeMinutes: read(env, "REVOKE_MAX_FACTOR_AGE_MINUTES"),
    userTokenMaxSeconds: read(env, "USER_TOKEN_MAX_SECONDS"),
    upstreamTimeoutMs: read(env, "UPSTREAM_TIMEOUT_MS"),
    proxy: parseProxy(env),
    basePath: read(env, "GATEWAY_BASE_PATH"),
    bapiPassthrough: read(env, "BAPI_PASSTHROUGH"),
  };
}

/** The proxy's settings mean something only together, and only with an origin. */
function parseProxy(env: ConfigBindings): ProxyConfig | undefined {
  const originUrl = read(env, "ORIGIN_URL");
  if (!originUrl) {
    // Settings that only mean something with an origin are a mistake without one.
    if (list(env.PUBLIC_PATHS).length > 0) throw misconfigured("PUBLIC_PATHS", "needs ORIGIN_URL");
    if (trimmed(env.ORIGIN_SHARED_SECRET)) throw misconfigured("ORIGIN_SHARED_SECRET", "needs ORIGIN_URL");
    if (trimmed(env.ORIGIN_ASSERTION_KEYS)) throw misconfigured("ORIGIN_ASSERTION_KEYS", "needs ORIGIN_URL");
    return undefined;
  }
  return {
    originUrl,
    publicPaths: read(env, "PUBLIC_PATHS"),
    sharedSecret: read(env, "ORIGIN_SHARED_SECRET"),
    assertionKeys: read(env, "ORIGIN_ASSERTION_KEYS"),
    timeoutMs: read(env, "ORIGIN_TIMEOUT_MS"),
    forwardCredentials: read(env, "ORIGIN_FORWARD_CREDENTIALS"),
  };
}
