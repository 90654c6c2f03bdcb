/**
 * @module
 * Who is calling, as established by the auth middleware.
 */
import { unauthenticated } from "../core/errors";

export type SessionClaims = {
  sub: string;
  sid: string;
  iss: string;
  exp: number;
  iat: number;
  azp?: string;
  sts?: string;
  /** Minutes since first and second factor verification; -1 means never. */
  fva?: [number, number];
  [claim: string]: unknown;
};

export type UserPrincipal = {
  kind: "user";
  userId: string;
  sessionId: string;
  claims: SessionClaims;
  /** How the token arrived: a cookie means a browser may have sent it without the page asking. */
  via: "header" | "cookie";
};

export type ServicePrincipal = {
  kind: "service";
  /** Position of the matching key in GATEWAY_API_KEYS: enough to tell keys apart in logs, never the key. */
  keyIndex: number;
};

export type AnonymousPrincipal = { kind: "anonymous" };

export type Principal = UserPrincipal | ServicePrincipal | AnonymousPrincipal;

/** What the auth middleware sets: absent on routes that do not authenticate. */
export type AuthVariables = { principal: Principal };

/** The caller of the current request; anonymous when no auth middleware ran. */
export const principalOf = (c: { var: Partial<AuthVariables> }): Principal => c.var.principal ?? { kind: "anonymous" };

/** The signed-in user of a route that serves only users; anything else is a 401. */
export function userOf(c: { var: Partial<AuthVariables> }): UserPrincipal {
  const principal = principalOf(c);
  if (principal.kind !== "user") throw unauthenticated();
  return principal;
}
