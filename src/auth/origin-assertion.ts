/**
 * @module
 * The identity assertion the proxy gives the origin: a short JWT the gateway signs for each
 * forwarded request (`X-Gateway-Assertion`), as Cloudflare Access does with
 * `Cf-Access-Jwt-Assertion`. A shared secret proves only that a request passed the gateway,
 * and whoever learns it can be anyone; an assertion names the user, is made for one request
 * (method and path), lives 30 s, and is verified with public keys: the origin holds nothing
 * worth stealing, and a leaked assertion is good for one request to one path for seconds.
 *
 * Keys come from ORIGIN_ASSERTION_KEYS: a private JWK (Ed25519 or P-256), or a JSON array of
 * them, as `npm run assertion-key` prints one. A JWK carries its public half, which WebCrypto
 * cannot derive from a PKCS#8 Ed25519 key in workerd. The first key signs; every key is
 * published at `/.well-known/gateway-jwks.json`, each under its RFC 7638 thumbprint as `kid`, so
 * a key can be published before it signs and after it stopped (README, "Rotating the keys").
 * Signed with WebCrypto directly: signing needs none of jose's parsing.
 */
import { base64url } from "jose";
import type { PrivateJwk } from "../config/assertion-keys";
import { now } from "../core/clock";
import { misconfigured } from "../core/errors";
import { fixedBytes, isolateMap } from "../core/isolate-memory";

/** The header an origin reads. In the reserved family (`X-Gateway-*`): a caller's copy is always removed. */
export const ASSERTION_HEADER = "X-Gateway-Assertion";
/** Where the public keys are published, under the gateway's own routes. */
export const ASSERTION_JWKS_PATH = "/.well-known/gateway-jwks.json";
/** How long an assertion is good for: enough for an origin's clock to be a little off, no more. */
export const ASSERTION_LIFETIME_SECONDS = 30;

export type PublicJwk = { kty: string; crv: string; x: string; y?: string; kid: string; alg: string; use: "sig" };

type SigningKey = { key: CryptoKey; alg: "EdDSA" | "ES256"; kid: string; sign: { name: string; hash?: string } };

export type AssertionKeys = { signing: SigningKey; published: PublicJwk[] };

/** Imported once per isolate per setting. */
const imported = isolateMap<readonly PrivateJwk[], Promise<AssertionKeys>>("assertionKeys", fixedBytes(4 * 1024));

export function assertionKeys(jwks: readonly PrivateJwk[]): Promise<AssertionKeys> {
  let keys = imported.get(jwks);
  if (!keys) {
    keys = importAll(jwks);
    // A key that does not import is the operator's error, reported on every request until fixed.
    keys.catch(() => imported.delete(jwks));
    imported.set(jwks, keys);
  }
  return keys;
}

async function importAll(jwks: readonly PrivateJwk[]): Promise<AssertionKeys> {
  const keys = await Promise.all(jwks.map(importOne));
  const [signing] = keys;
  if (!signing) throw misconfigured("ORIGIN_ASSERTION_KEYS", "holds no key");
  return { signing: signing.signing, published: keys.map((key) => key.jwk) };
}

async function importOne(jwk: PrivateJwk): Promise<{ signing: SigningKey; jwk: PublicJwk }> {
  const ed = jwk.kty === "OKP";
  const alg = ed ? "EdDSA" : "ES256";
  let key: CryptoKey;
  try {
    key = (await crypto.subtle.importKey(
      "jwk",
      { ...jwk, ext: false },
      ed ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign"],
    )) as CryptoKey;
  } catch {
    throw misconfigured("ORIGIN_ASSERTION_KEYS", "holds a key that does not import (check its x, y and d)");
  }
  const kid = await thumbprint(jwk);
  const published: PublicJwk = {
    kty: jwk.kty,
    crv: jwk.crv,
    x: jwk.x,
    ...(jwk.y ? { y: jwk.y } : {}),
    kid,
    alg,
    use: "sig",
  };
  const sign = ed ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
  return { signing: { key, alg, kid, sign }, jwk: published };
}

/** RFC 7638: SHA-256 of the required public members in lexicographic order. */
async function thumbprint(jwk: PrivateJwk): Promise<string> {
  const members = jwk.y ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(members)));
  return base64url.encode(new Uint8Array(digest));
}

export type AssertionSubject = { userId: string; sessionId: string; orgId: string | undefined };

/**
 * The assertion for one forwarded request. `issuer` is the gateway's origin as the caller
 * reached it, `audience` ORIGIN_URL; `htm` and `htu` (RFC 9449's names: the method, and the
 * target URL without its query) bind it to this request. A public path's request is asserted
 * too, without a subject: the origin can refuse anything that did not come through the gateway.
 */
export async function signAssertion(
  keys: AssertionKeys,
  request: { issuer: string; audience: string; method: string; target: string },
  subject: AssertionSubject | undefined,
): Promise<string> {
  const { signing } = keys;
  const issuedAt = Math.floor(now() / 1000);
  const target = new URL(request.target);
  const payload: Record<string, unknown> = {
    iss: request.issuer,
    aud: request.audience,
    iat: issuedAt,
    exp: issuedAt + ASSERTION_LIFETIME_SECONDS,
    jti: crypto.randomUUID(),
    htm: request.method,
    htu: `${target.origin}${target.pathname}`,
  };
  if (subject) {
    payload.sub = subject.userId;
    payload.sid = subject.sessionId;
    if (subject.orgId) payload.org_id = subject.orgId;
  }
  const encoder = new TextEncoder();
  const header = base64url.encode(encoder.encode(JSON.stringify({ alg: signing.alg, kid: signing.kid, typ: "JWT" })));
  const body = base64url.encode(encoder.encode(JSON.stringify(payload)));
  const input = `${header}.${body}`;
  const signature = await crypto.subtle.sign(signing.sign, signing.key, encoder.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}
