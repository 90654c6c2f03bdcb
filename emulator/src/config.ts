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
  /** The instance's RSA private key as a JWK (JSON); `npm start` passes its persisted dev key. */
  SIGNING_KEY?: string;
}

export interface Config {
  /** The only Bearer key `/v1/*` accepts. */
  secretKey: string;
  publishableKey: string;
  /** `iss` of every token: `https://` + the host encoded in the publishable key. */
  issuer: string;
  webhookSecret: string;
  /** Instance ID: the `instance_id` of events and the start of the JWK `kid`. */
  instanceId: string;
  /** Where events are POSTed besides the outbox; null = outbox only. */
  webhookUrl: string | null;
  /** Added to every `/v1` response. */
  latencyMs: number;
  /** `azp` of dev sign-ins that name no origin. */
  defaultAzp: string;
  /** The signing key's private JWK; null: a key generated for this isolate. */
  signingKey: RsaPrivateJwk | null;
}

/** The members of an RSA private key in JWK form (RFC 7518 §6.3). */
export interface RsaPrivateJwk {
  kty: "RSA";
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

const RSA_PRIVATE_MEMBERS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"] as const;

/** SIGNING_KEY, checked: an RSA private JWK with every member, or an error naming the problem. */
export function parseSigningKey(raw: string): RsaPrivateJwk {
  let jwk: unknown;
  try {
    jwk = JSON.parse(raw);
  } catch {
    throw new Error("SIGNING_KEY is not JSON (an RSA private key as a JWK)");
  }
  const record = (jwk ?? {}) as Record<string, unknown>;
  if (record.kty !== "RSA") throw new Error('SIGNING_KEY is not an RSA JWK (kty must be "RSA")');
  const missing = RSA_PRIVATE_MEMBERS.filter((name) => typeof record[name] !== "string" || record[name] === "");
  if (missing.length > 0) throw new Error(`SIGNING_KEY lacks the private key members ${missing.join(", ")}`);
  return Object.fromEntries([
    ["kty", "RSA"],
    ...RSA_PRIVATE_MEMBERS.map((name) => [name, record[name]]),
  ]) as RsaPrivateJwk;
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
    signingKey: env.SIGNING_KEY ? parseSigningKey(env.SIGNING_KEY) : null,
  };
  cached = { env, config };
  return config;
}
