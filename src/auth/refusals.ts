import { ApiError } from "../core/errors";
import type { TokenRejection } from "./session-token";

/**
 * What a refused caller is told. Always Clerk's `authentication_invalid` 401 (so Clerk's SDKs
 * react as they do to Clerk), with a `long_message` and `meta.reason` the caller can act on.
 *
 * The rule: say what a legitimate caller can fix, never which check a forged token failed.
 * Every failure before the signature holds (junk, unknown `kid`, wrong algorithm or category, a
 * bad signature) and every claim failure of a signed token that is simply not a session token
 * of this instance (issuer, missing or malformed claims) reads the same: "not a session token of
 * this instance". Only facts about a token Clerk really signed for this instance, which its
 * holder knows anyway, are told apart: expired, not valid yet, issued for another origin,
 * pending, or its session is over. The precise reason stays in the request's log line.
 */
export type RefusalReason =
  | TokenRejection
  | "missing"
  | "malformed_authorization"
  | "unknown_service_key"
  | "revoked"
  | "session_ended"
  | "ambiguous_session_cookie"
  | "sid_mismatch";

type Public = { reason: string; message: string };

const NOT_A_SESSION_TOKEN: Public = {
  reason: "token_invalid",
  message:
    "The token is not a valid Clerk session token of this instance. Send a session token from Clerk.session.getToken() (a JWT template token is not a session token).",
};

const PUBLIC: Record<RefusalReason, Public> = {
  missing: {
    reason: "credential_missing",
    message:
      "No credential: send `Authorization: Bearer <token>` with a Clerk session token (or the __session cookie), or a service key from GATEWAY_API_KEYS.",
  },
  malformed_authorization: {
    reason: "authorization_malformed",
    message: "The Authorization header must be `Bearer <token>`.",
  },
  unknown_service_key: {
    reason: "unknown_service_key",
    message: "The bearer credential is not a service key of this gateway (GATEWAY_API_KEYS), nor a session token.",
  },
  expired: {
    reason: "token_expired",
    message:
      "The session token has expired. Clerk session tokens live 60 seconds: get a fresh one (Clerk.session.getToken()) and retry.",
  },
  not_yet_valid: {
    reason: "token_not_yet_valid",
    message: "The session token is not valid yet: check this machine's clock.",
  },
  issued_in_future: {
    reason: "token_not_yet_valid",
    message: "The session token is not valid yet: check this machine's clock.",
  },
  azp_not_allowed: {
    reason: "origin_not_allowed",
    message: "The session token was issued to an origin this gateway does not accept (CLERK_AUTHORIZED_PARTIES).",
  },
  session_pending: {
    reason: "session_pending",
    message: "The session has pending tasks; finish them before calling this gateway.",
  },
  revoked: {
    reason: "session_inactive",
    message: "The session is no longer active (signed out, ended or revoked): sign in again.",
  },
  // A long-lived token whose session Clerk no longer reports active: told as for a revocation.
  session_ended: {
    reason: "session_inactive",
    message: "The session is no longer active (signed out, ended or revoked): sign in again.",
  },
  lifetime_too_long: {
    reason: "token_lifetime_too_long",
    message: "The session token was minted to live longer than this gateway accepts (6 days): mint a shorter one.",
  },
  ambiguous_session_cookie: {
    reason: "session_cookie_ambiguous",
    message:
      "The request carries more than one __session cookie, so neither is trusted: clear the stale one, or send the token as `Authorization: Bearer <token>`.",
  },
  sid_mismatch: {
    reason: "session_mismatch",
    message: "The expired_token belongs to a different session than the one being refreshed.",
  },
  // Forged, foreign or not a session token: one answer for all, whichever check failed.
  malformed: NOT_A_SESSION_TOKEN,
  too_large: NOT_A_SESSION_TOKEN,
  alg_not_allowed: NOT_A_SESSION_TOKEN,
  wrong_category: NOT_A_SESSION_TOKEN,
  unknown_kid: NOT_A_SESSION_TOKEN,
  bad_signature: NOT_A_SESSION_TOKEN,
  wrong_issuer: NOT_A_SESSION_TOKEN,
  missing_claim: NOT_A_SESSION_TOKEN,
  bad_claim: NOT_A_SESSION_TOKEN,
};

/**
 * Where the refusal is given. The gateway's own routes (and its proxy) take session tokens and
 * service keys; an app's own routes behind `clerk-session-gateway/hono`'s requireAuth() take
 * session tokens only, so nothing told there may suggest a service key.
 */
export type RefusalScope = "gateway" | "app";

/** The app's routes' wording, where it differs from the gateway's. */
const APP_ROUTES: Partial<Record<RefusalReason, Public>> = {
  missing: {
    reason: "credential_missing",
    message:
      "No credential: send `Authorization: Bearer <token>` with a Clerk session token (Clerk.session.getToken()), or the __session cookie.",
  },
};

/** The 401 for a refusal, in Clerk's envelope. */
export function refusal(reason: RefusalReason, scope: RefusalScope = "gateway"): ApiError {
  const { reason: publicReason, message } =
    (scope === "app" ? APP_ROUTES[reason] : undefined) ?? PUBLIC[reason] ?? NOT_A_SESSION_TOKEN;
  return new ApiError(401, [
    {
      code: "authentication_invalid",
      message: "Invalid authentication",
      long_message: message,
      meta: { reason: publicReason },
    },
  ]);
}
