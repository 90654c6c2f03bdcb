import { beforeAll, describe, expect, it } from "vitest";
import {
  clearCalls,
  expiredToken,
  freshToken,
  type SignedIn,
  signClaims,
  signIn,
  tokenWith,
  upstreamCalls,
} from "./support/emulator";
import { captureConsole, useFreshWorld } from "./support/fresh-world";
import { type CallOptions, call, errorBody, SERVICE_KEY } from "./support/gateway";

/**
 * A refused caller is told what it can fix (expired token, missing credential, unknown service
 * key, ended session), always as Clerk's `authentication_invalid` 401, and never which check a
 * forged token failed: every forgery gets the very same body. No refusal reaches Clerk.
 */

// One world for the file: the forgeries below rely on the key store warmed in beforeAll.
useFreshWorld("file");
const logs = captureConsole();
let alice: SignedIn;
const now = () => Math.floor(Date.now() / 1000);

async function refused(options: CallOptions, path = "/v1/me/sessions/active") {
  await clearCalls();
  const response = await call(path, options);
  expect(response.status).toBe(401);
  const body = await errorBody(response);
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]?.code).toBe("authentication_invalid");
  expect(await upstreamCalls()).toBe(0);
  return body.errors[0] as NonNullable<(typeof body.errors)[0]>;
}

beforeAll(async () => {
  alice = await signIn("alice");
  // Warm the key store, so an unknown kid below costs no JWKS fetch (and the genuine token is proven good).
  expect((await call("/v1/me/sessions/active", { token: alice.token })).status).toBe(200);
}, 60_000);

describe("401s say what the caller can act on", () => {
  it("no credential at all", async () => {
    const error = await refused({});
    expect(error.meta).toEqual({ reason: "credential_missing" });
    expect(error.long_message).toContain("Authorization: Bearer");
    // The gateway's routes take service keys too, so it names them (an app's own routes do not: test/hono).
    expect(error.long_message).toContain("GATEWAY_API_KEYS");
  });

  it("an Authorization header that is not Bearer", async () => {
    const error = await refused({ headers: { Authorization: "Basic YWxpY2U6cHc=" } });
    expect(error.meta).toEqual({ reason: "authorization_malformed" });
  });

  it("an expired session token", async () => {
    const error = await refused({ token: await expiredToken(alice.session_id) });
    expect(error.meta).toEqual({ reason: "token_expired" });
    expect(error.long_message).toMatch(/expired.*60 seconds/);
  });

  it("a token not valid yet", async () => {
    const error = await refused({ token: await tokenWith(alice.session_id, { nbf: now() + 600 }) });
    expect(error.meta).toEqual({ reason: "token_not_yet_valid" });
  });

  it("an unknown service key", async () => {
    const error = await refused({ serviceKey: `${SERVICE_KEY}x` }, "/v1/sessions");
    expect(error.meta).toEqual({ reason: "unknown_service_key" });
    expect(error.long_message).toContain("GATEWAY_API_KEYS");
  });

  it("a session that was signed out", async () => {
    const other = await signIn("alice");
    const token = await freshToken(other.session_id);
    const revoke = await call(`/v1/sessions/${other.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(revoke.status).toBe(200);
    const error = await refused({ token });
    expect(error.meta).toEqual({ reason: "session_inactive" });
    expect(error.long_message).toContain("no longer active");
  });
});

describe("forged tokens are indistinguishable: whichever check failed, the body is the same", () => {
  it("junk, unknown kid, bad signature, alg none, wrong issuer, a template token without sid", async () => {
    const forgeries: Record<string, string> = {
      junk: "aaaa.bbbb.cccc",
      "unknown kid": await tokenWith(alice.session_id, {}, { kid: "ins_2someOtherInstance000000000" }),
      "bad signature": await signClaims(
        { sub: alice.user_id, sid: alice.session_id, iat: now(), exp: now() + 60 },
        {},
        "invalid",
      ),
      "alg none": await signClaims(
        { sub: alice.user_id, sid: alice.session_id, iat: now(), exp: now() + 60 },
        { alg: "none" },
        "none",
      ),
      "wrong issuer": await tokenWith(alice.session_id, { iss: "https://evil.clerk.accounts.dev" }),
      "no sid (a JWT template token)": await tokenWith(alice.session_id, { sid: undefined }),
    };
    const bodies = new Map<string, string>();
    for (const [name, token] of Object.entries(forgeries)) {
      const error = await refused({ token });
      expect(error.meta, name).toEqual({ reason: "token_invalid" });
      bodies.set(name, JSON.stringify(error));
    }
    expect(new Set(bodies.values()).size, [...bodies.keys()].join(", ")).toBe(1);
    // The cookie path answers forgeries the same way.
    const viaCookie = await refused({ cookie: forgeries.junk as string });
    expect(JSON.stringify(viaCookie)).toBe([...bodies.values()][0]);
  });
});

describe("the precise reason is in the log line, not the response", () => {
  it("a bad signature is logged as such while the caller reads token_invalid", async () => {
    const forged = await signClaims(
      { sub: alice.user_id, sid: alice.session_id, iat: now(), exp: now() + 60 },
      {},
      "invalid",
    );
    const error = await refused({ token: forged });
    expect(error.meta).toEqual({ reason: "token_invalid" });
    await refused({});
    const reasons = logs
      .json()
      .filter((line) => line.msg === "request")
      .map((line) => line.auth_failure);
    expect(reasons).toEqual(["bad_signature", "missing"]);
  });
});
