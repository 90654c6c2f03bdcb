import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { clearCalls, clerkSession, type SignedIn, signClaims, signIn, upstreamCalls } from "../support/emulator";
import { freshWorld } from "../support/fresh-world";
import { type CallOptions, callWith, errorBody } from "../support/gateway";

/**
 * The configurable parts of the token policy: pending sessions (ALLOW_PENDING_SESSIONS) and
 * the recent first factor needed to remove another device (REVOKE_MAX_FACTOR_AGE_MINUTES), aged by
 * the token's own age, and the longest token a user may mint (USER_TOKEN_MAX_SECONDS).
 */

const send = (path: string, options: CallOptions, overrides: Record<string, string> = {}) =>
  callWith(path, options, { ...env, ...overrides });

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

describe("the first factor's age includes the token's own age", () => {
  const revokeVictim = (token: string) =>
    send(`/v1/me/sessions/${victim.session_id}/revoke`, { method: "POST", token });
  const now = () => Math.floor(Date.now() / 1000);

  it("fva[0] = 30 on a token issued 29 minutes ago is 59 minutes: allowed; issued 31 minutes ago: 403", async () => {
    const aged = (minutes: number) =>
      withClaims({ fva: [30, -1], iat: now() - minutes * 60, nbf: now() - minutes * 60 - 10, exp: now() + 60 });
    const refused = await revokeVictim(await aged(31));
    expect(refused.status).toBe(403);
    expect(await upstreamCalls({ path: "/v1/sessions/*/revoke" })).toBe(0);
    expect((await revokeVictim(await aged(29))).status).toBe(200);
    expect(await upstreamCalls({ path: "/v1/sessions/*/revoke" })).toBe(1);
  });
});

describe("USER_TOKEN_MAX_SECONDS caps what users mint; services keep Clerk's range", () => {
  const mint = (path: string, expires_in_seconds: number, overrides: Record<string, string> = {}) =>
    send(path, { method: "POST", token: device.token, json: { expires_in_seconds } }, overrides);

  it("default 60: 61 is refused before Clerk on both token routes; the setting raises it", async () => {
    const plain = `/v1/sessions/${device.session_id}/tokens`;
    const template = `/v1/sessions/${device.session_id}/tokens/supabase`;
    for (const path of [plain, template]) {
      const refused = await mint(path, 61);
      expect(refused.status).toBe(400);
      expect((await errorBody(refused)).errors[0]).toMatchObject({
        code: "form_param_invalid",
        meta: { param_name: "expires_in_seconds" },
      });
    }
    expect(await upstreamCalls({ path: /\/tokens/ })).toBe(0);
    expect((await mint(plain, 60)).status).toBe(200);
    expect((await mint(plain, 3600, { USER_TOKEN_MAX_SECONDS: "3600" })).status).toBe(200);
    expect((await mint(plain, 3601, { USER_TOKEN_MAX_SECONDS: "3600" })).status).toBe(400);
    expect(await upstreamCalls({ path: /\/tokens/ })).toBe(2);
  });

  it("a setting outside 30..518400 fails the request naming the setting", async () => {
    for (const value of ["10", "600000", "soon"]) {
      const response = await mint(`/v1/sessions/${device.session_id}/tokens`, 60, { USER_TOKEN_MAX_SECONDS: value });
      expect(response.status).toBe(500);
      expect(JSON.stringify(await errorBody(response))).toContain("USER_TOKEN_MAX_SECONDS");
    }
    expect(await upstreamCalls()).toBe(0);
  });
});
