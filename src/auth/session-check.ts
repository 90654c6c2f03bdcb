import { isRevoked, type RevocationBindings, type RevocationMetrics } from "../revocation/revocations";
import { type VerifyOptions, type VerifyResult, verifySessionToken } from "./session-token";

/**
 * The one answer to "may this session token act now?": the whole token policy
 * (session-token.ts) and then the revocation state every authenticated path shares
 * (revocation/revocations.ts). The gateway's own routes and the app middleware
 * (`clerk-session-gateway/hono`) both ask here, so they can never disagree.
 */
export type SessionCheck = VerifyResult | { ok: false; reason: "revoked" };

export async function checkSessionToken(
  token: string,
  options: VerifyOptions & { env: RevocationBindings; metrics?: RevocationMetrics },
): Promise<SessionCheck> {
  const result = await verifySessionToken(token, options);
  if (!result.ok) return result;
  // A token used past its expiry (refresh's expired_token) may belong to a session that ended
  // before the recent window: only a live token is judged by the recent set.
  const live = options.ignoreExpiry ? undefined : result.claims;
  if (await isRevoked(options.env, result.claims.sub, result.claims.sid, options.metrics, live)) {
    return { ok: false, reason: "revoked" };
  }
  return result;
}
