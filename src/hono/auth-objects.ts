import type { UnconfirmedReason } from "../auth/authenticate";
import {
  authorizationFacts,
  type CheckAuthorizationParams,
  createCheckAuthorization,
  type OrgFields,
  orgFieldsOf,
} from "../auth/authorization";
import type { SessionClaims } from "../auth/principal";
import type { RefusalReason } from "../auth/refusals";
import type { ClerkClient } from "../clerk/client";

/**
 * @module
 * The auth objects `getAuth(c)` returns, in `@clerk/backend`'s shapes: signed in and signed out
 * for session tokens, and the machine-token and invalid-token objects a route that asks for
 * other kinds of token gets. Pure: what the middleware decided, as an app reads it.
 */

export type { CheckAuthorizationParams } from "../auth/authorization";

/**
 * Why a request is signed out, as the gateway's own routes name it: kept for logs and
 * `debug()`; `requireAuth()` tells the caller only what the gateway would (auth/refusals.ts).
 */
export type SignedOutReason =
  | RefusalReason
  /** The address failed authentication too often (RL_AUTH_FAILURES): requireAuth() answers 429. */
  | "rate_limited"
  /** A cookie-authenticated write or upgrade from an unauthorized origin: requireAuth() answers 403. */
  | "cross_site_cookie"
  /** Not decided through no fault of the caller's (auth/authenticate.ts): requireAuth() answers 503. */
  | UnconfirmedReason;

export type SignedInAuthObject = OrgFields & {
  tokenType: "session_token";
  isAuthenticated: true;
  userId: string;
  sessionId: string;
  sessionStatus: "active" | "pending" | null;
  sessionClaims: SessionClaims;
  actor: Record<string, unknown> | undefined;
  factorVerificationAge: [number, number] | null;
  /** This request's session token; with a template, a token minted by Clerk for it (as `@clerk/backend` does). */
  getToken: (options?: { template?: string; expiresInSeconds?: number }) => Promise<string | null>;
  has: (params: CheckAuthorizationParams) => boolean;
  debug: () => Record<string, unknown>;
};

export type SignedOutAuthObject = {
  tokenType: "session_token";
  isAuthenticated: false;
  userId: null;
  sessionId: null;
  sessionStatus: null;
  sessionClaims: null;
  actor: null;
  orgId: null;
  orgRole: null;
  orgSlug: null;
  orgPermissions: null;
  factorVerificationAge: null;
  getToken: () => Promise<null>;
  has: () => false;
  debug: () => { reason: SignedOutReason };
};

export type AuthObject = SignedInAuthObject | SignedOutAuthObject;

/** The kinds of token `@clerk/backend` tells apart. */
export type TokenType = "session_token" | "api_key" | "m2m_token" | "oauth_token";
export type MachineTokenType = Exclude<TokenType, "session_token">;

/** `@clerk/hono`'s second argument: which kinds of token the route accepts. */
export type GetAuthOptions = { acceptsToken?: TokenType | readonly TokenType[] | "any" };

/** A route that asked for a machine token, given none of that kind: `@clerk/backend`'s shape for it. */
export type UnauthenticatedMachineObject<T extends MachineTokenType = MachineTokenType> = {
  tokenType: T;
  isAuthenticated: false;
  id: null;
  subject: null;
  scopes: null;
  getToken: () => Promise<null>;
  has: () => false;
  debug: () => { reason: SignedOutReason | "token_type_mismatch" };
} & (T extends "api_key"
  ? { name: null; claims: null; userId: null; orgId: null }
  : T extends "m2m_token"
    ? { claims: null; machineId: null }
    : { userId: null; clientId: null });

/** A route that accepts a list of kinds, given a token of none of them (`@clerk/backend`'s `invalidTokenAuthObject`). */
export type InvalidTokenAuthObject = {
  tokenType: null;
  isAuthenticated: false;
  getToken: () => Promise<null>;
  has: () => false;
  debug: () => Record<string, never>;
};

/** `@clerk/backend`'s getAuthObjectForAcceptedToken, for the session-token auth this middleware makes. */
export function forAcceptedToken(
  auth: AuthObject,
  acceptsToken: GetAuthOptions["acceptsToken"] = "session_token",
): AuthObject | UnauthenticatedMachineObject | InvalidTokenAuthObject {
  if (acceptsToken === "any") return auth;
  if (Array.isArray(acceptsToken)) return acceptsToken.includes(auth.tokenType) ? auth : invalidTokenAuth();
  if (acceptsToken === auth.tokenType) return auth;
  const reason = auth.isAuthenticated ? "token_type_mismatch" : auth.debug().reason;
  return unauthenticatedMachine(acceptsToken as MachineTokenType, reason);
}

function unauthenticatedMachine(
  tokenType: MachineTokenType,
  reason: SignedOutReason | "token_type_mismatch",
): UnauthenticatedMachineObject {
  const base = {
    isAuthenticated: false as const,
    id: null,
    subject: null,
    scopes: null,
    getToken: () => Promise.resolve(null),
    has: () => false as const,
    debug: () => ({ reason }),
  };
  if (tokenType === "api_key") return { ...base, tokenType, name: null, claims: null, userId: null, orgId: null };
  if (tokenType === "m2m_token") return { ...base, tokenType, claims: null, machineId: null };
  return { ...base, tokenType, userId: null, clientId: null };
}

const invalidTokenAuth = (): InvalidTokenAuthObject => ({
  tokenType: null,
  isAuthenticated: false,
  getToken: () => Promise.resolve(null),
  has: () => false,
  debug: () => ({}),
});

export function signedOut(reason: SignedOutReason): SignedOutAuthObject {
  return {
    tokenType: "session_token",
    isAuthenticated: false,
    userId: null,
    sessionId: null,
    sessionStatus: null,
    sessionClaims: null,
    actor: null,
    orgId: null,
    orgRole: null,
    orgSlug: null,
    orgPermissions: null,
    factorVerificationAge: null,
    getToken: () => Promise.resolve(null),
    has: () => false,
    debug: () => ({ reason }),
  };
}

export function signedIn(claims: SessionClaims, token: string, clerk: () => ClerkClient): SignedInAuthObject {
  const org = orgFieldsOf(claims);
  const sts = claims.sts;
  return {
    tokenType: "session_token",
    isAuthenticated: true,
    userId: claims.sub,
    sessionId: claims.sid,
    sessionStatus: sts === "active" || sts === "pending" ? sts : null,
    sessionClaims: claims,
    actor: isRecord(claims.act) ? claims.act : undefined,
    ...org,
    factorVerificationAge: claims.fva ?? null,
    getToken: async (options) => {
      if (!options?.template) return token;
      const body = options.expiresInSeconds ? { expires_in_seconds: options.expiresInSeconds } : undefined;
      return (await clerk().createTemplateToken(claims.sid, options.template, body)).jwt;
    },
    has: createCheckAuthorization(authorizationFacts(claims, org)),
    debug: () => ({ sessionId: claims.sid, userId: claims.sub }),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
