import { misconfigured } from "../core/errors";
import { fixedBytes, isolateMap } from "../core/isolate-memory";
import type { Bindings } from "../http/app-env";

/**
 * How an app Worker tells the gateway code where its state lives. The gateway reads its
 * bindings under fixed names (SESSION_CACHE, RL_AUTH_FAILURES, …); an app that bound the
 * same KV namespace, Durable Object or rate limiters under other names maps them here, and
 * may pass Clerk settings in code instead of environment variables (as `@clerk/hono` allows).
 */
export type GatewayBindingName = {
  [K in keyof Bindings]-?: NonNullable<Bindings[K]> extends string ? never : K;
}[keyof Bindings];

export type GatewayOptions = {
  /** Binding names in the app's environment, keyed by the gateway's name: `{ SESSION_CACHE: "AUTH_KV" }`. */
  bindings?: Partial<Record<GatewayBindingName, string>>;
  /** Defaults to the CLERK_SECRET_KEY environment variable. */
  secretKey?: string;
  /** Defaults to CLERK_PUBLISHABLE_KEY; the required token issuer is derived from it. */
  publishableKey?: string;
  /** Defaults to CLERK_API_URL, then https://api.clerk.com. */
  apiUrl?: string;
  /** Defaults to CLERK_API_VERSION. */
  apiVersion?: string;
  /** Defaults to CLERK_JWT_KEY: a PEM public key for networkless verification. */
  jwtKey?: string;
  /** Defaults to CLERK_AUTHORIZED_PARTIES: the origins allowed as `azp` (and as CORS origins). */
  authorizedParties?: readonly string[];
};

const SETTINGS = {
  secretKey: "CLERK_SECRET_KEY",
  publishableKey: "CLERK_PUBLISHABLE_KEY",
  apiUrl: "CLERK_API_URL",
  apiVersion: "CLERK_API_VERSION",
  jwtKey: "CLERK_JWT_KEY",
} as const satisfies Record<string, keyof Bindings>;

/**
 * The environment as the gateway code expects it. Memoized per platform env object and per
 * set of options, so the configuration is parsed once per isolate and a middleware and a
 * mounted gateway with the same options share one configuration, and with it the memory of
 * verified tokens: a token verified on the app's route is not verified again on the gateway's.
 */
const views = isolateMap<string, WeakMap<object, Bindings>>("gatewayEnvs", fixedBytes(64));

export function gatewayEnv(env: object | undefined, options: GatewayOptions = {}): Bindings {
  const source = (env ?? {}) as Record<string, unknown>;
  const key = optionsKey(options);
  // Nothing renamed or set in code: the platform's env object itself, as the standalone Worker always had it.
  if (key === "") return checked(source, options);
  let perEnv = views.get(key);
  if (!perEnv) {
    perEnv = new WeakMap();
    views.set(key, perEnv);
  }
  const hit = perEnv.get(source);
  if (hit) return hit;
  const view: Record<string, unknown> = { ...source };
  for (const [gatewayName, appName] of Object.entries(options.bindings ?? {})) {
    if (appName) view[gatewayName] = source[appName];
  }
  for (const [option, variable] of Object.entries(SETTINGS)) {
    const value = options[option as keyof typeof SETTINGS];
    if (value !== undefined) view[variable] = value;
  }
  if (options.authorizedParties) view.CLERK_AUTHORIZED_PARTIES = options.authorizedParties.join(",");
  const bindings = checked(view, options);
  perEnv.set(source, bindings);
  return bindings;
}

/**
 * The app's environment is typed by the app, not by the gateway: what the gateway cannot
 * work without is checked here. Without its KV namespace the gateway would not see any
 * revocation, so a missing one is a configuration error (500 naming the binding), never a
 * silently weaker check.
 */
function checked(view: Record<string, unknown>, options: GatewayOptions): Bindings {
  const kv = view.SESSION_CACHE as { get?: unknown } | undefined;
  if (typeof kv?.get !== "function") {
    const name = options.bindings?.SESSION_CACHE ?? "SESSION_CACHE";
    throw misconfigured(name, "is not bound to a KV namespace (the gateway's revocation markers and keys live there)");
  }
  return view as unknown as Bindings;
}

/** A stable key for the options that change the environment; "" when none do (the env is used as is). */
function optionsKey(options: GatewayOptions): string {
  const bindings = Object.entries(options.bindings ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const settings = Object.keys(SETTINGS)
    .map((name) => [name, options[name as keyof typeof SETTINGS]] as const)
    .filter(([, value]) => value !== undefined);
  const parties = options.authorizedParties ? [["authorizedParties", options.authorizedParties.join(",")]] : [];
  const all = [...bindings, ...settings, ...parties];
  return all.length === 0 ? "" : JSON.stringify(all);
}
