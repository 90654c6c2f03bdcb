/**
 * The instance signing key, the JWKS and every JWT the emulator issues.
 *
 * One RSA-2048 key per isolate, generated with WebCrypto on first use (workerd forbids
 * randomness at module load) and kept across `/__emulator/reset`, like a real instance key.
 * Its `kid` is the instance ID, as in Clerk.
 */
import { base64url, compactVerify, decodeProtectedHeader, exportJWK, SignJWT } from "jose";
import type { Config } from "./config";
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

let keyPair: Promise<CryptoKeyPair> | undefined;

function instanceKey(): Promise<CryptoKeyPair> {
  keyPair ??= crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as Promise<CryptoKeyPair>;
  return keyPair;
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
  const { publicKey } = await instanceKey();
  const jwk = await exportJWK(publicKey);
  return { keys: [{ use: "sig", kty: "RSA", kid: config.instanceId, alg: "RS256", n: jwk.n ?? "", e: jwk.e ?? "" }] };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function sign(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const { privateKey } = await instanceKey();
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", ...header }).sign(privateKey);
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
  return sign({ kid: config.instanceId, typ: "JWT", cat: TOKEN_CATEGORY.session }, claims);
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
  return sign({ kid: config.instanceId, typ: "JWT", cat: TOKEN_CATEGORY.template }, claims);
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
  const fullHeader = { alg: "RS256", kid: config.instanceId, typ: "JWT", ...header };
  const input = `${base64url.encode(JSON.stringify(fullHeader))}.${base64url.encode(JSON.stringify(claims))}`;
  if (signature === "none") return `${input}.`;
  const { privateKey } = await instanceKey();
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
    if (decodeProtectedHeader(jwt).kid !== config.instanceId) return null;
    const { publicKey } = await instanceKey();
    const { payload } = await compactVerify(jwt, publicKey, { algorithms: ["RS256"] });
    const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
    return claims !== null && typeof claims === "object" && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
