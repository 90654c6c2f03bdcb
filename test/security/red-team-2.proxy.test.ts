import { env } from "cloudflare:workers";
import { customFetch, decodeJwt, decodeProtectedHeader } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { gatewayAssertionVerifier } from "../../examples/origin-assertion/verify";
import verifierSource from "../../examples/origin-assertion/verify.ts?raw";
import readme from "../../README.md?raw";
import { ASSERTION_LIFETIME_SECONDS } from "../../src/auth/origin-assertion";
import { ORIGIN_URL, TEST_ASSERTION_NEXT_KEY, TEST_BASE_PATH, TEST_ORIGIN_SECRET } from "../proxy/config";
import { clearOrigin, originRequests, type ReceivedRequest, sendWith } from "../proxy/support";
import { TEST_AUTHORIZED_PARTIES } from "../support/config";
import { clearCalls, SEED, signIn, upstreamCalls } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, errorBody, GATEWAY_ORIGIN } from "../support/gateway";

/**
 * The second red team's proxy findings (docs/security.md, round 2), replayed as the attacks were
 * made, each asserting what the origin saw: nothing, when the request must not reach it.
 * 1. TRACE would have an origin echo the gateway's shared secret; and the origin's answer to "who
 *    is this?" is now a signed, per-request assertion it verifies offline.
 * 2. A cross-site WebSocket handshake carrying the victim's cookie.
 * 3. Public paths spelled to be read differently by the origin, and path-override headers.
 */

useFreshWorld();
beforeEach(clearOrigin);

const GATEWAY_URL = `${GATEWAY_ORIGIN}${TEST_BASE_PATH}`;

async function expectOriginUntouched(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect((await errorBody(response)).errors[0]?.code).toBe(code);
  expect(await originRequests()).toEqual([]);
}

/** The request as the origin received it, rebuilt for a verifier running at the origin. */
const asReceived = (seen: ReceivedRequest) =>
  new Request(`https://${seen.host}${seen.path}${seen.search}`, { method: seen.method, headers: seen.headers });

/** The README's origin-side verifier, fetching the gateway's published keys through the gateway itself. */
const verifier = () =>
  gatewayAssertionVerifier(GATEWAY_URL, ORIGIN_URL, {
    [customFetch]: (input: string | URL | Request, init?: RequestInit) => call(String(input), init),
  });

async function lastReceived(): Promise<ReceivedRequest> {
  const seen = (await originRequests()).at(-1);
  if (!seen) throw new Error("the origin received nothing");
  return seen;
}

describe("1. only the methods an application uses are forwarded", () => {
  // Every method the runtime delivers to a Worker that an application does not use (workerd refuses unknown ones itself).
  for (const method of [
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "SEARCH",
  ]) {
    it(`${method} on a public path: 405 in Clerk's envelope, the origin sees nothing`, async () => {
      await clearCalls();
      const response = await call("/public/page", { method });
      expect(response.headers.get("Allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      await expectOriginUntouched(response, 405, "method_not_allowed");
      expect(await upstreamCalls()).toBe(0);
    });
  }

  it("TRACE with a valid session token is refused too (before authentication spends anything)", async () => {
    const alice = await signIn("alice");
    await expectOriginUntouched(
      await call("/api/me", { method: "TRACE", token: alice.token }),
      405,
      "method_not_allowed",
    );
  });

  it("every method an application uses still reaches the origin", async () => {
    const alice = await signIn("alice");
    for (const method of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      const response = await call("/api/orders", { method, token: alice.token });
      expect(response.status, method).toBe(200);
    }
    expect((await originRequests()).map((r) => r.method)).toEqual([
      "GET",
      "HEAD",
      "POST",
      "PUT",
      "PATCH",
      "DELETE",
      "OPTIONS",
    ]);
  });
});

describe("1. the origin gets a signed identity assertion it verifies offline", () => {
  it("a signed-in request: sub, sid and org_id, audience the origin, bound to method and path, ≤ 60 s", async () => {
    const alice = await signIn("alice");
    await call("/api/orders/42?expand=items", { method: "PATCH", token: alice.token });
    const seen = await lastReceived();
    const payload = await verifier()(asReceived(seen));
    expect(payload).toMatchObject({
      iss: GATEWAY_ORIGIN,
      aud: ORIGIN_URL,
      sub: SEED.users.alice.id,
      sid: alice.session_id,
      htm: "PATCH",
      htu: `${ORIGIN_URL}/api/orders/42`,
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(ASSERTION_LIFETIME_SECONDS);
    expect(ASSERTION_LIFETIME_SECONDS).toBeLessThanOrEqual(60);
    expect(typeof payload.jti).toBe("string");
    // The shared secret is still sent, for origins that have not moved to the assertion yet.
    expect(seen.headers["x-gateway-secret"]).toBe(TEST_ORIGIN_SECRET);
  });

  it("org_id is asserted from the token's active organization", async () => {
    const alice = await signIn("alice");
    const { tokenWith } = await import("../support/emulator");
    const v2 = await tokenWith(alice.session_id, { o: { id: "org_2acme", rol: "admin" } });
    await call("/api/orders", { token: v2 });
    expect(await verifier()(asReceived(await lastReceived()))).toMatchObject({ org_id: "org_2acme" });
  });

  it("a public path's request is asserted without a subject, so an origin can refuse whatever did not come through", async () => {
    const alice = await signIn("alice");
    await call("/public/page", { token: alice.token });
    const payload = await verifier()(asReceived(await lastReceived()));
    expect(payload.sub).toBeUndefined();
    expect(payload.sid).toBeUndefined();
    expect(payload.htu).toBe(`${ORIGIN_URL}/public/page`);
  });

  it("the verifier the README shows is this file, word for word", () => {
    expect(readme).toContain(`\`\`\`ts\n${verifierSource}\`\`\``);
  });

  it("a replayed assertion is refused by the origin's verification", async () => {
    const alice = await signIn("alice");
    await call("/api/orders", { token: alice.token });
    const verify = verifier();
    const request = asReceived(await lastReceived());
    await verify(request.clone());
    await expect(verify(request.clone())).rejects.toThrow("already used");
  });

  it("an assertion moved to another path or method is refused by the origin's verification", async () => {
    const alice = await signIn("alice");
    await call("/api/orders", { token: alice.token });
    const seen = await lastReceived();
    const verify = verifier();
    await expect(verify(asReceived({ ...seen, path: "/api/admin/delete-everything" }))).rejects.toThrow(
      "another request",
    );
    await expect(verify(asReceived({ ...seen, method: "DELETE" }))).rejects.toThrow("another request");
  });

  it("a forged assertion, or one a caller sends itself, never verifies; the caller's copy never reaches the origin", async () => {
    const alice = await signIn("alice");
    await call("/api/orders", { token: alice.token });
    const genuine = (await lastReceived()).headers["x-gateway-assertion"] ?? "";
    const [header, payload, signature] = genuine.split(".");
    const claims = { ...decodeJwt(genuine), sub: SEED.users.bob.id };
    const forged = `${header}.${btoa(JSON.stringify(claims)).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_")}.${signature}`;
    const seen = await lastReceived();
    await expect(
      verifier()(asReceived({ ...seen, headers: { ...seen.headers, "x-gateway-assertion": forged } })),
    ).rejects.toThrow();
    expect(payload).toBeTruthy();

    await clearOrigin();
    await call("/public/page", { headers: { "X-Gateway-Assertion": genuine, x_gateway_assertion: genuine } });
    const received = await lastReceived();
    expect(received.headers["x-gateway-assertion"]).not.toBe(genuine);
    expect(received.headers.x_gateway_assertion).toBeUndefined();
  });

  it("both keys of a rotation are published (each under its thumbprint); the first one signs", async () => {
    const response = await call(`${TEST_BASE_PATH}/.well-known/gateway-jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toContain("public");
    const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };
    expect(keys.map((key) => [key.kty, key.crv, key.alg])).toEqual([
      ["OKP", "Ed25519", "EdDSA"],
      ["EC", "P-256", "ES256"],
    ]);
    for (const key of keys) expect(key.d).toBeUndefined();
    const alice = await signIn("alice");
    await call("/api/orders", { token: alice.token });
    const assertion = (await lastReceived()).headers["x-gateway-assertion"] ?? "";
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: "EdDSA", kid: keys[0]?.kid, typ: "JWT" });
  });

  it("the P-256 key signs as ES256 when it comes first", async () => {
    const alice = await signIn("alice");
    await sendWith({ ORIGIN_ASSERTION_KEYS: JSON.stringify(TEST_ASSERTION_NEXT_KEY) }, "/api/orders", {
      token: alice.token,
    });
    const assertion = (await lastReceived()).headers["x-gateway-assertion"] ?? "";
    expect(decodeProtectedHeader(assertion).alg).toBe("ES256");
    const keys = (await (
      await sendWith(
        { ORIGIN_ASSERTION_KEYS: JSON.stringify(TEST_ASSERTION_NEXT_KEY) },
        `${TEST_BASE_PATH}/.well-known/gateway-jwks.json`,
      )
    ).json()) as { keys: unknown[] };
    const { createLocalJWKSet, jwtVerify } = await import("jose");
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(keys as never), { audience: ORIGIN_URL });
    expect(payload.sub).toBe(SEED.users.alice.id);
  });

  it("a bad ORIGIN_ASSERTION_KEYS is a 500 naming the setting (never its value), and the origin sees nothing", async () => {
    const wrongD = JSON.stringify({ ...TEST_ASSERTION_NEXT_KEY, d: "AAAA" });
    const rsa = JSON.stringify({ kty: "RSA", n: "AAAA", e: "AQAB", d: "AAAA" });
    for (const bad of ["not a key", "[]", rsa, wrongD]) {
      const response = await sendWith({ ORIGIN_ASSERTION_KEYS: bad }, "/public/page");
      expect(response.status).toBe(500);
      const body = await errorBody(response);
      expect(body.errors[0]?.meta?.setting).toBe("ORIGIN_ASSERTION_KEYS");
      expect(JSON.stringify(body)).not.toContain("AAAA");
    }
    expect(await originRequests()).toEqual([]);
  });
});

describe("2. a cookie-authenticated WebSocket handshake is held to the Origin rule of a write", () => {
  const upgrade = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13" };

  it("from a sibling subdomain (or no Origin) with the victim's cookie: 403, the origin sees nothing", async () => {
    const victim = await signIn("alice");
    for (const origin of ["https://evil.app.example.com", undefined]) {
      const headers = { ...upgrade, ...(origin ? { Origin: origin } : {}) };
      await expectOriginUntouched(await call("/ws", { cookie: victim.token, headers }), 403, "authorization_invalid");
    }
  });

  it("from an authorized origin it is forwarded with the identity", async () => {
    const alice = await signIn("alice");
    await call("/ws", { cookie: alice.token, headers: { ...upgrade, Origin: TEST_AUTHORIZED_PARTIES[1] } });
    expect((await lastReceived()).headers["x-clerk-user-id"]).toBe(SEED.users.alice.id);
  });
});

describe("3. public paths: doubt fails closed", () => {
  const confusing = [
    "/public/%252e%252e/private",
    "/public/..%252fprivate",
    "/public/%252fprivate",
    "/public/%25",
    "/public/%EF%BC%8E%EF%BC%8E/private",
    "/public/%EF%BC%8F..%EF%BC%8Fprivate",
    "/public/%E2%80%A4%E2%80%A4/private",
    "/public/%E2%88%95private",
    "/public/%EF%BC%BCprivate",
    "/public/%C0%AE%C0%AE/private",
  ];
  for (const path of confusing) {
    it(`${path} needs authentication (401, origin not called)`, async () => {
      await expectOriginUntouched(await call(path), 401, "authentication_invalid");
    });
  }

  it("non-ASCII that is not a look-alike stays public (/public/café)", async () => {
    expect((await call("/public/caf%C3%A9")).status).toBe(200);
  });

  const overrides = {
    "X-Original-URL": "/private/admin",
    "X-Rewrite-URL": "/private/admin",
    "X-Original-URI": "/private/admin",
    "X-Forwarded-Uri": "/private/admin",
    "X-Forwarded-Path": "/private/admin",
    "X-Forwarded-Prefix": "/private",
    "X-HTTP-Method-Override": "DELETE",
    "X-HTTP-Method": "DELETE",
    "X-Method-Override": "DELETE",
    X_Original_URL: "/private/admin",
    "X-Forwarded-Scheme": "http",
    "X-Forwarded-Port": "8443",
  };

  it("path- and method-override headers never reach the origin, on a public path or an authenticated one", async () => {
    const alice = await signIn("alice");
    await call("/public/page", { headers: overrides });
    await call("/api/orders", { token: alice.token, headers: overrides });
    const received = await originRequests();
    expect(received).toHaveLength(2);
    for (const seen of received) {
      const names = Object.keys(seen.headers).map((name) => name.replaceAll("_", "-"));
      for (const name of Object.keys(overrides))
        expect(names, name).not.toContain(name.toLowerCase().replaceAll("_", "-"));
      // The gateway's own forwarding headers say what it saw.
      expect(seen.headers["x-forwarded-proto"]).toBe("https");
    }
  });
});

describe("the user's SessionDirectory unreachable, through the proxy", () => {
  it("past the fallback bound: 503 with Retry-After, the origin sees nothing", async () => {
    const { DIRECTORY_FALLBACK_MAX_MS } = await import("../../src/revocation/revocations");
    const { advanceClock } = await import("../../src/core/clock");
    const fail = () => Promise.reject(new Error("Durable Object reset because its code was updated."));
    const broken = {
      idFromName: (name: string) => env.SESSION_DIRECTORY?.idFromName(name),
      get: () => ({ isRevoked: fail, recordRevoked: fail, claimWebhook: fail }),
    };
    const alice = await signIn("alice");
    // Without the revocation log, Clerk's 60 s tokens take the per-user check (as long-lived ones always do).
    const bindings = { SESSION_DIRECTORY: broken, REVOCATION_LOG: undefined };
    // Within the bound the KV markers are consulted instead (logged, marked in the request log)…
    expect((await sendWith(bindings, "/api/orders", { token: alice.token })).status).toBe(200);
    advanceClock(DIRECTORY_FALLBACK_MAX_MS);
    await clearOrigin();
    // …past it, nothing vouches for the session.
    const refused = await sendWith(bindings, "/api/orders", { token: alice.token });
    expect(refused.headers.get("Retry-After")).toBeTruthy();
    await expectOriginUntouched(refused, 503, "directory_unavailable");
  });
});
