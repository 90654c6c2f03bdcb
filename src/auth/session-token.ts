/**
 * @module
 * Verifies a Clerk session token at the edge, stricter than Clerk's own middleware:
 * RS256 only, Clerk's session category, the issuer pinned to this instance, `azp`
 * checked, `sid` and `sub` required and well formed, pending sessions refused unless
 * allowed. Why a token failed is returned for the log; callers only ever see a 401.
 */
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";
import type { GatewayConfig } from "../config/settings";
import { now } from "../core/clock";
import { ApiError, misconfigured } from "../core/errors";
import { SESSION_ID, USER_ID } from "../core/ids";
import { isolateMap, jsonBytes, VERIFIED_TOKEN_MEMORY_MS } from "../core/isolate-memory";
import { countLookup } from "../core/memory-stats";
import { REVOCATION_TTL_SECONDS } from "../storage/kv-schema";
import { jwksStoreFor, type KeyLookupDeps, pemKey } from "./jwks";
import type { SessionClaims } from "./principal";

/** Clerk's token categories (`cat` header): a session token carries this one. */
export const SESSION_TOKEN_CATEGORY = "cl_B7d4PD111AAA";
/** Clerk allows 5 s of clock skew; so does the gateway, and no more. */
export const CLOCK_SKEW_SECONDS = 5;
/** Clerk's session tokens live 60 s; a longer-lived one was minted on purpose (`expires_in_seconds`). */
export const SESSION_TOKEN_LIFETIME_SECONDS = 60;
/**
 * The longest lifetime (`exp - iat`) the gateway accepts: a day short of how long a revocation
 * marker is kept, so a revoked session's marker always outlives every token of it that could
 * still verify (Clerk will mint up to ten years for a backend caller).
 */
export const MAX_TOKEN_LIFETIME_SECONDS = REVOCATION_TTL_SECONDS - 86_400;
/** Real session tokens are about 1 KiB; anything far larger is refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8_192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export type TokenRejection =
  | "malformed"
  | "too_large"
  | "alg_not_allowed"
  | "wrong_category"
  | "unknown_kid"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "issued_in_future"
  | "wrong_issuer"
  | "missing_claim"
  | "bad_claim"
  | "azp_not_allowed"
  | "session_pending"
  | "lifetime_too_long";

export type VerifyResult = { ok: true; claims: SessionClaims } | { ok: false; reason: TokenRejection };

export type VerifyOptions = {
  config: GatewayConfig;
  keys: KeyLookupDeps;
  /** For refresh: Clerk accepts the expired token of the session being refreshed. */
  ignoreExpiry?: boolean;
};

const fail = (reason: TokenRejection): VerifyResult => ({ ok: false, reason });

/**
 * Verified claims by token string. An answer holds only for the configuration it was
 * verified under (issuer, authorized parties…), so the entry names that configuration.
 */
const verifiedTokens = isolateMap<string, { config: GatewayConfig; claims: SessionClaims }>("verifiedTokens", (value) =>
  jsonBytes(value.claims),
);

export async function verifySessionToken(token: string, options: VerifyOptions): Promise<VerifyResult> {
  const { config } = options;
  if (token.length > MAX_TOKEN_LENGTH) return fail("too_large");
  if (!COMPACT_JWS.test(token)) return fail("malformed");
  // A token this isolate already verified under this configuration, not yet expired: same answer, no RSA.
  const hit = options.ignoreExpiry ? undefined : countLookup("tokens", verifiedTokens.get(token));
  const remembered = hit?.config === config ? hit.claims : undefined;
  if (remembered && remembered.exp + CLOCK_SKEW_SECONDS > now() / 1000) return { ok: true, claims: remembered };

  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return fail("malformed");
  }
  if (header.alg !== "RS256") return fail("alg_not_allowed");
  if (header.cat !== undefined && header.cat !== SESSION_TOKEN_CATEGORY) return fail("wrong_category");
  if (header.typ !== undefined && header.typ !== "JWT") return fail("malformed");

  let key: CryptoKey;
  try {
    if (config.jwtKey) {
      key = await pemKey(config.jwtKey).catch(() => {
        throw misconfigured("CLERK_JWT_KEY", "could not be imported as an RSA public key");
      });
    } else {
      if (typeof header.kid !== "string" || header.kid.length === 0 || header.kid.length > 128)
        return fail("unknown_kid");
      key = await jwksStoreFor(config.apiUrl).getKey(header.kid, options.keys);
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return fail("unknown_kid");
    throw error;
  }

  const verifiedAt = now();
  // jose would judge `exp`, `nbf` and `iat` by wall time: the gateway's clock decides (src/core/clock.ts).
  let currentDate = new Date(verifiedAt);
  if (options.ignoreExpiry) {
    // Verify as of the token's own expiry, so only `exp` is waived: the signature, issuer and the rest still hold.
    let exp: unknown;
    try {
      exp = decodeJwt(token).exp;
    } catch {
      return fail("malformed");
    }
    if (typeof exp !== "number") return fail("missing_claim");
    currentDate = new Date(Math.min(verifiedAt, exp * 1000));
  }

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["RS256"],
      issuer: config.issuer,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["sub", "sid", "iat", "exp"],
      currentDate,
    }));
  } catch (error) {
    return fail(joseReason(error));
  }

  const { sub, sid, iat, azp, sts, fva } = payload;
  if (typeof sub !== "string" || !USER_ID.test(sub)) return fail("bad_claim");
  if (typeof sid !== "string" || !SESSION_ID.test(sid)) return fail("bad_claim");
  if (typeof iat !== "number" || iat > verifiedAt / 1000 + CLOCK_SKEW_SECONDS) return fail("issued_in_future");
  if ((payload.exp as number) - iat > MAX_TOKEN_LIFETIME_SECONDS) return fail("lifetime_too_long");
  if (
    !config.azpUnchecked &&
    azp !== undefined &&
    (typeof azp !== "string" || !config.authorizedParties.includes(azp))
  ) {
    return fail("azp_not_allowed");
  }
  if (sts !== undefined && sts !== "active" && sts !== "pending") return fail("bad_claim");
  if (sts === "pending" && !config.allowPendingSessions) return fail("session_pending");
  if (fva !== undefined && !(Array.isArray(fva) && fva.length === 2 && fva.every(Number.isInteger))) {
    return fail("bad_claim");
  }
  const claims = payload as SessionClaims;
  if (!options.ignoreExpiry && typeof payload.exp === "number") {
    const untilExpiry = (payload.exp + CLOCK_SKEW_SECONDS) * 1000 - verifiedAt;
    verifiedTokens.set(token, { config, claims }, Math.min(VERIFIED_TOKEN_MEMORY_MS, untilExpiry));
  }
  return { ok: true, claims };
}

function joseReason(error: unknown): TokenRejection {
  if (error instanceof joseErrors.JWTExpired) return "expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "nbf") return "not_yet_valid";
    if (error.reason === "missing") return "missing_claim";
    return "bad_claim";
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "alg_not_allowed";
  return "malformed";
}
