/**
 * The instance signing key, the JWKS and every JWT the emulator issues.
 *
 * One RSA-2048 key per isolate, kept across `/__emulator/reset` like a real instance key: the
 * SIGNING_KEY var when set (`npm start` passes a dev key it keeps in .wrangler/, so a Worker of
 * one's own that cached the JWKS keeps verifying tokens across restarts), else generated with
 * WebCrypto on first use (workerd forbids randomness at module load), as in the tests.
 * Its `kid` is the instance ID followed by the start of the key's RFC 7638 thumbprint: Clerk's
 * kids are the instance ID alone, but here keys come and go, and a new key under an old `kid`
 * would fail every signature wherever the old JWKS is cached. A new key is a new `kid`, which
 * a verifier fetches afresh.
 */
import {
  base64url,
  calculateJwkThumbprint,
  compactVerify,
  decodeProtectedHeader,
  exportJWK,
  importJWK,
  SignJWT,
} from "jose";
import type { Config, RsaPrivateJwk } from "./config";
import { randomHex } from "./ids";
import type { JwtTemplateDef } from "./seed";
import type { SessionRecord, UserRecord } from "./state";
import { renderTemplateClaims } from "./templates";

/** `cat` header values Clerk uses to tell token kinds apart (@clerk/backend jwtCategories). */
export const TOKEN_CATEGORY = { session: "cl_B7d4PD111AAA", template: "cl_B7d4PD222AAA" } as const;
/** Clerk's session token lifetime. */
export const SESSION_TOKEN_LIFETIME_SECONDS = 60;
/** Clerk back-dates `nbf` to absorb clock skew. */
const NBF_SKEW_SECONDS = 10;
/** How much of the key's thumbprint the `kid` carries (72 bits). */
const KID_THUMBPRINT_CHARS = 12;

interface InstanceKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public members, as published. */
  n: string;
  e: string;
  kid: string;
}

let current: { source: string; key: Promise<InstanceKey> } | undefined;

function instanceKey(config: Config): Promise<InstanceKey> {
  const source = `${config.instanceId}|${config.signingKey?.n ?? "generated"}`;
  if (current?.source !== source) current = { source, key: loadKey(config.instanceId, config.signingKey) };
  return current.key;
}

async function loadKey(instanceId: string, jwk: RsaPrivateJwk | null): Promise<InstanceKey> {
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  if (jwk) {
    privateKey = (await importJWK({ ...jwk, alg: "RS256" }, "RS256")) as CryptoKey;
    publicKey = (await importJWK({ kty: "RSA", n: jwk.n, e: jwk.e, alg: "RS256" }, "RS256")) as CryptoKey;
  } else {
    ({ privateKey, publicKey } = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair);
  }
  const { n = "", e = "" } = await exportJWK(publicKey);
  const thumbprint = await calculateJwkThumbprint({ kty: "RSA", n, e }, "sha256");
  return { privateKey, publicKey, n, e, kid: `${instanceId}_${thumbprint.slice(0, KID_THUMBPRINT_CHARS)}` };
}

/** The `kid` of the instance key, as the JWKS publishes it and every token's header names it. */
export async function instanceKid(config: Config): Promise<string> {
  return (await instanceKey(config)).kid;
}

export interface RsaPublicJwk {
  use: "sig";
  kty: "RSA";
  kid: string;
  alg: "RS256";
  n: string;
  e: string;
}

/** `GET /v1/jwks`: the public half of the instance key, in Clerk's key order. */
export async function jwks(config: Config): Promise<{ keys: RsaPublicJwk[] }> {
  const { kid, n, e } = await instanceKey(config);
  return { keys: [{ use: "sig", kty: "RSA", kid, alg: "RS256", n, e }] };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function sign(config: Config, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const { privateKey, kid } = await instanceKey(config);
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, ...header }).sign(privateKey);
}

export interface SessionTokenOptions {
  /** Authorized party; omitted from the token when null. */
  azp: string | null;
  /** Overrides the 60 s lifetime (BAPI `expires_in_seconds`). */
  expiresInSeconds?: number | null;
}

/** A v2 session token for an active or pending session. */
export async function signSessionToken(
  config: Config,
  session: SessionRecord,
  options: SessionTokenOptions,
): Promise<string> {
  const iat = nowSeconds();
  const lifetime = options.expiresInSeconds ?? SESSION_TOKEN_LIFETIME_SECONDS;
  const minutesSinceFirstFactor = Math.max(0, Math.floor((Date.now() - session.first_factor_at) / 60_000));
  // Clerk v2 claims, alphabetical like Clerk's own tokens.
  const claims: Record<string, unknown> = {};
  if (session.actor) claims.act = session.actor;
  if (options.azp !== null) claims.azp = options.azp;
  Object.assign(claims, {
    exp: iat + lifetime,
    fva: [minutesSinceFirstFactor, -1],
    iat,
    iss: config.issuer,
    jti: randomHex(10),
    nbf: iat - NBF_SKEW_SECONDS,
    pla: "u:free",
    sid: session.id,
    sts: session.status === "pending" ? "pending" : "active",
    sub: session.user_id,
    v: 2,
  });
  return sign(config, { typ: "JWT", cat: TOKEN_CATEGORY.session }, claims);
}

/** A JWT-template token: the template's claims plus the registered ones; no `sid`. */
export async function signTemplateToken(
  config: Config,
  session: SessionRecord,
  user: UserRecord,
  template: JwtTemplateDef,
  expiresInSeconds: number | null,
): Promise<string> {
  const iat = nowSeconds();
  const claims: Record<string, unknown> = {
    ...renderTemplateClaims(template, user, session),
    azp: session.azp,
    exp: iat + (expiresInSeconds ?? template.lifetime),
    iat,
    iss: config.issuer,
    jti: randomHex(10),
    nbf: iat - NBF_SKEW_SECONDS,
    sub: session.user_id,
  };
  return sign(config, { typ: "JWT", cat: TOKEN_CATEGORY.template }, claims);
}

export type SignatureMode = "valid" | "none" | "invalid";

/**
 * `POST /__emulator/sign`: exactly the given claims, and the given header over
 * `{alg:"RS256", kid, typ:"JWT"}`. Built by hand rather than with jose so that attack tests
 * can put anything in the header (`alg:"none"`, a foreign `kid`, …). The signature is always
 * RS256 with the instance key unless `signature` asks for none or a corrupted one.
 */
export async function signRaw(
  config: Config,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signature: SignatureMode = "valid",
): Promise<string> {
  const encoder = new TextEncoder();
  const { privateKey, kid } = await instanceKey(config);
  const fullHeader = { alg: "RS256", kid, typ: "JWT", ...header };
  const input = `${base64url.encode(JSON.stringify(fullHeader))}.${base64url.encode(JSON.stringify(claims))}`;
  if (signature === "none") return `${input}.`;
  const sig = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, encoder.encode(input)));
  if (signature === "invalid") sig[0] = (sig[0] ?? 0) ^ 0xff;
  return `${input}.${base64url.encode(sig)}`;
}

/**
 * Verifies a JWT's RS256 signature against the instance key and `kid`; expiry is NOT
 * checked (refresh takes expired tokens). Returns the claims, or null when invalid.
 */
export async function verifyInstanceSignature(config: Config, jwt: string): Promise<Record<string, unknown> | null> {
  try {
    const { publicKey, kid } = await instanceKey(config);
    if (decodeProtectedHeader(jwt).kid !== kid) return null;
    const { payload } = await compactVerify(jwt, publicKey, { algorithms: ["RS256"] });
    const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
    return claims !== null && typeof claims === "object" && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
