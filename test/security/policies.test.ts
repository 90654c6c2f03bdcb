import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { clearCalls, clerkSession, type SignedIn, signClaims, signIn, upstreamCalls } from "../support/emulator";
import { freshWorld } from "../support/fresh-world";
import { type CallOptions, errorBody, gatewayRequest } from "../support/gateway";

/**
 * The configurable parts of the token policy: pending sessions (ALLOW_PENDING_SESSIONS) and
 * the recent first factor needed to remove another device (REVOKE_MAX_FACTOR_AGE_MINUTES).
 */

async function send(path: string, options: CallOptions, overrides: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(gatewayRequest(path, options), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

let device: SignedIn;
let victim: SignedIn;
/** alice's current token re-signed with some claims changed. */
const withClaims = (claims: Record<string, unknown>) =>
  signClaims({ ...decodeJwt(device.token), ...claims }, decodeProtectedHeader(device.token));

beforeEach(async () => {
  await freshWorld();
  device = await signIn("alice");
  victim = await signIn("alice");
  await clearCalls();
});

describe("sts: pending is refused unless ALLOW_PENDING_SESSIONS=true", () => {
  it("refused by default without calling Clerk, accepted when allowed", async () => {
    const pending = await withClaims({ sts: "pending" });
    const refused = await send("/v1/me/sessions/active", { token: pending });
    expect(refused.status).toBe(401);
    // (The isolate's first verification may fetch the JWKS; nothing else reaches Clerk.)
    expect(await upstreamCalls({ path: /^\/v1\/sessions/ })).toBe(0);
    const allowed = await send("/v1/me/sessions/active", { token: pending }, { ALLOW_PENDING_SESSIONS: "true" });
    expect(allowed.status).toBe(200);
  });
});

describe("removing another device needs a first factor within REVOKE_MAX_FACTOR_AGE_MINUTES", () => {
  const revokeVictim = (token: string, overrides: Record<string, string> = {}) =>
    send(`/v1/me/sessions/${victim.session_id}/revoke`, { method: "POST", token }, overrides);

  it("61 minutes old (or never) is 403 session_reverification_required, with nothing revoked", async () => {
    for (const fva of [
      [61, -1],
      [-1, -1],
    ]) {
      const response = await revokeVictim(await withClaims({ fva }));
      expect(response.status).toBe(403);
      expect((await errorBody(response)).errors[0]).toMatchObject({
        code: "session_reverification_required",
        meta: { reverification: { level: "first_factor", after_minutes: 60 } },
      });
    }
    const { fva: _fva, ...noFva } = decodeJwt(device.token);
    const missing = await revokeVictim(await signClaims(noFva, decodeProtectedHeader(device.token)));
    expect(missing.status).toBe(403);
    expect(await upstreamCalls({ path: "/v1/sessions/*/revoke" })).toBe(0);
    expect((await clerkSession(victim.session_id)).status).toBe("active");
  });

  it("the threshold is configurable: 120 minutes accepts 61; 0 turns the check off", async () => {
    const stale = await withClaims({ fva: [61, -1] });
    expect((await revokeVictim(stale, { REVOKE_MAX_FACTOR_AGE_MINUTES: "30" })).status).toBe(403);
    expect((await revokeVictim(stale, { REVOKE_MAX_FACTOR_AGE_MINUTES: "120" })).status).toBe(200);
    const other = await signIn("alice");
    const off = await send(
      `/v1/me/sessions/${other.session_id}/revoke`,
      { method: "POST", token: await withClaims({ fva: [10_000, -1] }) },
      { REVOKE_MAX_FACTOR_AGE_MINUTES: "0" },
    );
    expect(off.status).toBe(200);
  });

  it("signing out of the current session never needs reverification", async () => {
    const response = await send(`/v1/sessions/${device.session_id}/revoke`, {
      method: "POST",
      token: await withClaims({ fva: [10_000, -1] }),
    });
    expect(response.status).toBe(200);
  });
});
