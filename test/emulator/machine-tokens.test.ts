/**
 * The emulator's machine credentials: API keys, M2M tokens (opaque and JWT), OAuth access tokens
 * (opaque and JWT), their verify and revoke endpoints in Clerk's shapes (validated against the
 * BAPI spec), and @clerk/backend's own clients verifying them against the emulator.
 */
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { TEST_API_URL, TEST_ISSUER, TEST_PUBLISHABLE_KEY, TEST_SECRET_KEY } from "../support/config";
import { emulatorCalls, machineTokens, mintOAuthAccessToken, SEED, webhookDeliveries } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { bapi, expectClerkError, expectDocumented, type Json, json } from "./support";

const M = SEED.machineTokens;
const alice = SEED.users.alice;

useFreshWorld();

const mintOAuth = mintOAuthAccessToken;

describe("seeded machine credentials", () => {
  it("are listed by /__emulator/machine_tokens with the values SEED exports", async () => {
    const listed = await machineTokens();
    expect(listed).toMatchObject({
      api_keys: expect.arrayContaining([
        expect.objectContaining({ id: M.apiKeys.alice.id, secret: M.apiKeys.alice.secret }),
      ]),
      machines: expect.arrayContaining([expect.objectContaining({ id: M.machines.worker.id })]),
      m2m_tokens: [expect.objectContaining({ id: M.m2mTokens.worker.id, token: M.m2mTokens.worker.token })],
      oauth_access_tokens: [expect.objectContaining({ id: M.oauthTokens.alice.id })],
    });
    expect(M.apiKeys.alice.id).toMatch(/^ak_[0-9a-f]{32}$/);
    expect(M.apiKeys.acme.subject).toBe(M.organizationId);
    expect(M.machines.worker.id).toMatch(/^mch_[0-9A-Za-z]{27}$/);
    expect(M.m2mTokens.worker.id).toMatch(/^mt_[0-9a-f]{32}$/);
  });
});

describe("API keys", () => {
  it("creates a key (the secret only once), lists, reads, verifies and revokes it, at /v1 and the root", async () => {
    const created = await bapi("POST", "/v1/api_keys", {
      body: { name: "build-bot", subject: alice.id, scopes: ["read"], claims: { env: "ci" }, created_by: alice.id },
    });
    expect(created.status).toBe(200);
    const key = await json(created);
    expectDocumented("bapi", "POST", "/api_keys", 200, key);
    expect(key).toMatchObject({ object: "api_key", subject: alice.id, revoked: false, scopes: ["read"] });
    expect(key.secret).toMatch(/^ak_/);

    const read = await json(await bapi("GET", `/api_keys/${key.id}`));
    expectDocumented("bapi", "GET", `/api_keys/${key.id}`, 200, read);
    expect(read.secret).toBeUndefined();

    const list = await json<{ data: Json[]; total_count: number }>(await bapi("GET", `/api_keys?subject=${alice.id}`));
    expectDocumented("bapi", "GET", "/api_keys", 200, list);
    // Alice's seeded key, and this one; not the revoked seeded one.
    expect(list.total_count).toBe(2);

    const verified = await bapi("POST", "/api_keys/verify", { body: { secret: key.secret } });
    expect(verified.status).toBe(200);
    const verifiedBody = await json(verified);
    expectDocumented("bapi", "POST", "/api_keys/verify", 200, verifiedBody);
    expect(verifiedBody.last_used_at).toEqual(expect.any(Number));

    const revoked = await json(
      await bapi("POST", `/api_keys/${key.id}/revoke`, { body: { revocation_reason: "rotated" } }),
    );
    expectDocumented("bapi", "POST", `/api_keys/${key.id}/revoke`, 200, revoked);
    expect(revoked).toMatchObject({ revoked: true, revocation_reason: "rotated" });
    await expectClerkError(
      await bapi("POST", "/api_keys/verify", { body: { secret: key.secret } }),
      404,
      "resource_not_found",
    );
    expect(await webhookDeliveries()).toEqual([]);
  });

  it("answers Clerk's errors: 400 for a bad body, 404 for unknown keys, 401 without the secret key", async () => {
    const bad = await expectClerkError(
      await bapi("POST", "/api_keys", { body: { name: "x", subject: alice.id } }),
      400,
      "bad_request",
    );
    expect(bad.errors[0]?.long_message).toContain("body.name");
    await expectClerkError(
      await bapi("POST", "/api_keys", { body: { name: "abc", subject: "nobody" } }),
      400,
      "bad_request",
    );
    await expectClerkError(
      await bapi("POST", "/api_keys", { body: { name: "abc", subject: alice.id, extra: 1 } }),
      400,
      "bad_request",
    );
    await expectClerkError(await bapi("GET", `/api_keys/ak_${"0".repeat(32)}`), 404, "resource_not_found");
    await expectClerkError(
      await bapi("POST", "/api_keys/verify", { body: { secret: M.apiKeys.aliceRevoked.secret } }),
      404,
      "resource_not_found",
    );
    await expectClerkError(
      await bapi("POST", "/api_keys/verify", { key: null, body: { secret: "ak_x" } }),
      401,
      "authentication_invalid",
    );
    await expectClerkError(
      await bapi("POST", "/api_keys/verify", { key: M.machines.worker.secret_key, body: { secret: "ak_x" } }),
      401,
      "clerk_key_invalid",
    );
    const calls = await emulatorCalls({ path: "/api_keys/verify" });
    expect(calls.length).toBe(3);
  });

  it("expires keys created with seconds_until_expiration", async () => {
    const key = await json(
      await bapi("POST", "/api_keys", { body: { name: "short", subject: alice.id, seconds_until_expiration: 0.001 } }),
    );
    await new Promise((r) => setTimeout(r, 5));
    await expectClerkError(
      await bapi("POST", "/api_keys/verify", { body: { secret: key.secret } }),
      404,
      "resource_not_found",
    );
  });
});

describe("M2M tokens", () => {
  const worker = M.machines.worker;
  const reporter = M.machines.reporter;

  it("creates opaque tokens with the machine secret key and verifies them with either key", async () => {
    const created = await bapi("POST", "/m2m_tokens", { key: worker.secret_key, body: { claims: { job: "x" } } });
    expect(created.status).toBe(201);
    const token = await json(created);
    expectDocumented("bapi", "POST", "/m2m_tokens", 201, token);
    expect(token).toMatchObject({ subject: worker.id, scopes: [reporter.id], claims: { job: "x" } });
    expect(token.token).toMatch(/^mt_/);

    // The machine it was granted to, and the instance's secret key, can verify it; the issuer itself too.
    for (const key of [reporter.secret_key, TEST_SECRET_KEY, worker.secret_key]) {
      const verified = await bapi("POST", "/m2m_tokens/verify", { key, body: { token: token.token } });
      expect(verified.status).toBe(200);
      expectDocumented("bapi", "POST", "/m2m_tokens/verify", 200, await json(verified));
    }
    await expectClerkError(await bapi("POST", "/m2m_tokens", { body: {} }), 401, "authentication_invalid");
  });

  it("lists and revokes; a revoked token no longer verifies", async () => {
    const { id, token } = M.m2mTokens.worker;
    const list = await json(await bapi("GET", `/m2m_tokens?subject=${worker.id}`, { key: worker.secret_key }));
    expectDocumented("bapi", "GET", "/m2m_tokens", 200, list);
    expect(list.total_count).toBe(1);
    const revoked = await json(
      await bapi("POST", `/v1/m2m_tokens/${id}/revoke`, { body: { revocation_reason: "leak" } }),
    );
    expectDocumented("bapi", "POST", `/m2m_tokens/${id}/revoke`, 200, revoked);
    expect(revoked).toMatchObject({ revoked: true, revocation_reason: "leak" });
    await expectClerkError(await bapi("POST", "/m2m_tokens/verify", { body: { token } }), 404, "resource_not_found");
  });

  it("issues JWT-format tokens signed with the instance key (cat cl_B7d4PD333AAA)", async () => {
    const created = await json(
      await bapi("POST", "/m2m_tokens", {
        key: worker.secret_key,
        body: { token_format: "jwt", seconds_until_expiration: 120 },
      }),
    );
    expectDocumented("bapi", "POST", "/m2m_tokens", 201, created);
    const jwt = String(created.token);
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: "RS256", cat: "cl_B7d4PD333AAA" });
    expect(decodeJwt(jwt)).toMatchObject({ iss: TEST_ISSUER, sub: worker.id, jti: created.id, aud: [reporter.id] });
    const verified = await json(
      await bapi("POST", "/m2m_tokens/verify", { key: reporter.secret_key, body: { token: jwt } }),
    );
    expect(verified).toMatchObject({ subject: worker.id, scopes: [reporter.id] });
  });
});

describe("OAuth access tokens", () => {
  it("verifies the seeded opaque token and a minted JWT; revokes opaque ones; expired JWTs are inactive", async () => {
    const seeded = await json(
      await bapi("POST", "/oauth_applications/access_tokens/verify", {
        body: { access_token: M.oauthTokens.alice.token },
      }),
    );
    expectDocumented("bapi", "POST", "/oauth_applications/access_tokens/verify", 200, seeded);
    expect(seeded).toMatchObject({ object: "clerk_idp_oauth_access_token", subject: alice.id });

    const jwt = await mintOAuth({
      user_id: alice.id,
      token_format: "jwt",
      scopes: ["profile"],
      audience: "https://api.example",
    });
    expect(decodeProtectedHeader(jwt.token).typ).toBe("at+jwt");
    const fromJwt = await json(
      await bapi("POST", "/oauth_applications/access_tokens/verify", { body: { access_token: jwt.token } }),
    );
    expectDocumented("bapi", "POST", "/oauth_applications/access_tokens/verify", 200, fromJwt);
    expect(fromJwt).toMatchObject({ id: jwt.id, subject: alice.id, scopes: ["profile"] });

    const short = await mintOAuth({ user_id: alice.id, token_format: "jwt", expires_in_seconds: -1 });
    const inactive = await json(
      await bapi("POST", "/oauth_applications/access_tokens/verify", { body: { access_token: short.token } }),
    );
    expect(inactive).toEqual({ active: false });

    const opaque = await mintOAuth({ user_id: alice.id });
    expect(opaque.token).toMatch(/^oat_/);
    const revoke = await bapi("POST", "/v1/oauth_applications/oa_dashboard000000000000000000000/revoke_token", {
      body: { token: opaque.token },
    });
    expect(revoke.status).toBe(204);
    await expectClerkError(
      await bapi("POST", "/oauth_applications/access_tokens/verify", { body: { access_token: opaque.token } }),
      404,
      "resource_not_found",
    );
  });
});

describe("@clerk/backend against the emulator", () => {
  it("apiKeys, m2m and idPOAuthAccessToken clients verify, create and revoke", async () => {
    const { createClerkClient } = await import("@clerk/backend");
    const clerk = createClerkClient({ secretKey: TEST_SECRET_KEY, apiUrl: TEST_API_URL });
    const key = await clerk.apiKeys.verify(M.apiKeys.bob.secret);
    expect(key).toMatchObject({ id: M.apiKeys.bob.id, subject: SEED.users.bob.id, revoked: false });
    const created = await clerk.apiKeys.create({ name: "sdk-key", subject: alice.id });
    expect(created.secret).toMatch(/^ak_/);
    const revoked = await clerk.apiKeys.revoke({ apiKeyId: created.id, revocationReason: "done" });
    expect(revoked.revoked).toBe(true);
    expect(await clerk.apiKeys.verify(String(created.secret)).catch((e: { status: number }) => e.status)).toBe(404);

    const m2m = createClerkClient({
      machineSecretKey: M.machines.worker.secret_key,
      secretKey: TEST_SECRET_KEY,
      apiUrl: TEST_API_URL,
    });
    const opaque = await m2m.m2m.createToken();
    expect(opaque.token).toMatch(/^mt_/);
    expect((await m2m.m2m.verify({ token: String(opaque.token) })).subject).toBe(M.machines.worker.id);
    const jwtToken = await m2m.m2m.createToken({ tokenFormat: "jwt" });
    // The SDK verifies JWT M2M tokens locally, against the instance's JWKS.
    const verifiedJwt = await m2m.m2m.verify({ token: String(jwtToken.token) });
    expect(verifiedJwt).toMatchObject({ subject: M.machines.worker.id, scopes: [M.machines.reporter.id] });
    const revokedM2m = await clerk.m2m.revokeToken({ m2mTokenId: opaque.id });
    expect(revokedM2m.revoked).toBe(true);

    const oauth = await clerk.idPOAuthAccessToken.verify(M.oauthTokens.alice.token);
    expect(oauth).toMatchObject({ subject: alice.id, clientId: M.oauthTokens.alice.client_id });

    const calls = await emulatorCalls({ path: /^\/(api_keys|m2m_tokens|oauth_applications)/ });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.auth_ok)).toBe(true);
  });

  it("authenticateRequest accepts each token type and refuses revoked ones", async () => {
    const { createClerkClient } = await import("@clerk/backend");
    const clerk = createClerkClient({
      secretKey: TEST_SECRET_KEY,
      publishableKey: TEST_PUBLISHABLE_KEY,
      apiUrl: TEST_API_URL,
    });
    const authenticate = (token: string, acceptsToken: "api_key" | "m2m_token" | "oauth_token" | "any") =>
      clerk.authenticateRequest(
        new Request("https://app.example.test/api", { headers: { authorization: `Bearer ${token}` } }),
        {
          acceptsToken,
        },
      );

    const apiKey = await authenticate(M.apiKeys.alice.secret, "api_key");
    expect(apiKey.isAuthenticated).toBe(true);
    expect(apiKey.toAuth()).toMatchObject({ tokenType: "api_key", userId: alice.id });
    const orgKey = await authenticate(M.apiKeys.acme.secret, "any");
    expect(orgKey.toAuth()).toMatchObject({ tokenType: "api_key", orgId: M.organizationId });
    expect((await authenticate(M.apiKeys.aliceRevoked.secret, "api_key")).isAuthenticated).toBe(false);

    const m2m = await authenticate(M.m2mTokens.worker.token, "m2m_token");
    expect(m2m.toAuth()).toMatchObject({ tokenType: "m2m_token", machineId: M.machines.worker.id });

    const oauth = await authenticate(M.oauthTokens.alice.token, "oauth_token");
    expect(oauth.toAuth()).toMatchObject({ tokenType: "oauth_token", userId: alice.id });
    const jwt = await mintOAuth({ user_id: alice.id, token_format: "jwt" });
    expect((await authenticate(jwt.token, "oauth_token")).toAuth()).toMatchObject({
      tokenType: "oauth_token",
      userId: alice.id,
    });

    // A session token is not a machine token.
    expect((await authenticate(M.apiKeys.alice.secret, "m2m_token")).isAuthenticated).toBe(false);
  });
});
