/**
 * Emulator configuration from Worker vars. Every value has a default (the committed,
 * non-secret local-dev values of emulator/wrangler.toml) so `wrangler dev` of the
 * emulator alone just works.
 */
export interface Env {
  CLERK_SECRET_KEY?: string;
  CLERK_PUBLISHABLE_KEY?: string;
  CLERK_WEBHOOK_SIGNING_SECRET?: string;
  INSTANCE_ID?: string;
  WEBHOOK_URL?: string;
  LATENCY_MS?: string;
  DEFAULT_AZP?: string;
}

export interface Config {
  /** The only Bearer key `/v1/*` accepts. */
  secretKey: string;
  publishableKey: string;
  /** `iss` of every token: `https://` + the host encoded in the publishable key. */
  issuer: string;
  webhookSecret: string;
  /** Instance ID: the `instance_id` of events and the JWK `kid`. */
  instanceId: string;
  /** Where events are POSTed besides the outbox; null = outbox only. */
  webhookUrl: string | null;
  /** Added to every `/v1` response. */
  latencyMs: number;
  /** `azp` of dev sign-ins that name no origin. */
  defaultAzp: string;
}

export const DEV_DEFAULTS = {
  CLERK_SECRET_KEY: "sk_test_localDevEmulatorKey_notASecret_0123456789",
  CLERK_PUBLISHABLE_KEY: "pk_test_aGFwcHktaGlwcG8tNDIuY2xlcmsuYWNjb3VudHMuZGV2JA",
  CLERK_WEBHOOK_SIGNING_SECRET: "whsec_bG9jYWwtZGV2LWVtdWxhdG9yLXdlYmhvb2tz",
  INSTANCE_ID: "ins_2happyHippo42EmulatorInstance",
  DEFAULT_AZP: "http://localhost:8787",
} as const;

/**
 * Decodes a publishable key (`pk_test_` / `pk_live_` + base64(host + "$"), padding optional)
 * into the Frontend API host, with the checks Clerk's SDK applies.
 */
export function frontendApiHostFromPublishableKey(key: string): string {
  const parts = key.split("_");
  if (parts.length !== 3 || parts[0] !== "pk" || (parts[1] !== "test" && parts[1] !== "live")) {
    throw new Error("CLERK_PUBLISHABLE_KEY is not a pk_test_/pk_live_ key");
  }
  let decoded: string;
  try {
    decoded = atob(parts[2] ?? "");
  } catch {
    throw new Error("CLERK_PUBLISHABLE_KEY is not valid base64");
  }
  if (!decoded.endsWith("$") || decoded.indexOf("$") !== decoded.length - 1 || !decoded.includes(".")) {
    throw new Error("CLERK_PUBLISHABLE_KEY does not encode a Frontend API host");
  }
  return decoded.slice(0, -1);
}

let cached: { env: Env; config: Config } | undefined;

/** Reads the config; cached per env object because the env of a Worker does not change. */
export function loadConfig(env: Env): Config {
  if (cached?.env === env) return cached.config;
  const publishableKey = env.CLERK_PUBLISHABLE_KEY || DEV_DEFAULTS.CLERK_PUBLISHABLE_KEY;
  const latency = Number(env.LATENCY_MS ?? "0");
  const config: Config = {
    secretKey: env.CLERK_SECRET_KEY || DEV_DEFAULTS.CLERK_SECRET_KEY,
    publishableKey,
    issuer: `https://${frontendApiHostFromPublishableKey(publishableKey)}`,
    webhookSecret: env.CLERK_WEBHOOK_SIGNING_SECRET || DEV_DEFAULTS.CLERK_WEBHOOK_SIGNING_SECRET,
    instanceId: env.INSTANCE_ID || DEV_DEFAULTS.INSTANCE_ID,
    webhookUrl: env.WEBHOOK_URL ? env.WEBHOOK_URL : null,
    latencyMs: Number.isFinite(latency) && latency > 0 ? latency : 0,
    defaultAzp: env.DEFAULT_AZP || DEV_DEFAULTS.DEFAULT_AZP,
  };
  cached = { env, config };
  return config;
}
