import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { TEST_AUTHORIZED_PARTIES, TEST_PUBLISHABLE_KEY, TEST_SERVICE_KEYS } from "../support/config";
import { clearFaults, emulatorCalls, SEED, setFault, signIn } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, errorBody, GATEWAY_ORIGIN, gatewayRequest } from "../support/gateway";

/**
 * The Backend-API drop-in, on the main suite's gateway (no BAPI_PASSTHROUGH, no proxy):
 * `GET /v1/jwks` from the gateway's key cache, so `@clerk/backend` pointed at the gateway
 * verifies tokens unchanged, and a clear 404 for the Backend-API resources not forwarded.
 */

type ClerkModule = typeof import("@clerk/backend");
let sdk: ClerkModule;
let ClerkAPIResponseError: typeof import("@clerk/backend/errors").ClerkAPIResponseError;
const gatewayRequests: string[] = [];

beforeAll(async () => {
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== GATEWAY_ORIGIN) return realFetch(request);
    gatewayRequests.push(`${request.method} ${url.pathname}`);
    return exports.default.fetch(request);
  });
  // Imported after the stub: the SDK may bind `fetch` when it loads.
  sdk = await import("@clerk/backend");
  ({ ClerkAPIResponseError } = await import("@clerk/backend/errors"));
});

afterAll(() => {
  vi.unstubAllGlobals();
});

useFreshWorld();
beforeEach(() => {
  gatewayRequests.length = 0;
});

type JwkSet = { keys: Array<Record<string, unknown>> };

describe("GET /v1/jwks", () => {
  it("serves Clerk's signing keys, public members only, to anyone, cacheable", async () => {
    const clerkKeys = (await (await fetch("https://api.clerk.com/.well-known/jwks.json")).json()) as JwkSet;
    const response = await call("/v1/jwks");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=300, stale-while-revalidate=60");
    const body = (await response.json()) as JwkSet;
    expect(body.keys.map((k) => k.kid)).toEqual(clerkKeys.keys.map((k) => k.kid));
    for (const key of body.keys) {
      expect(Object.keys(key).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
      const original = clerkKeys.keys.find((k) => k.kid === key.kid);
      expect(key.n).toBe(original?.n);
      expect(key.e).toBe(original?.e);
    }
  });

  it("ignores whatever credential comes with it (the SDK sends its secret key), and HEAD works", async () => {
    expect((await call("/v1/jwks", { headers: { Authorization: "Bearer not-a-key-at-all" } })).status).toBe(200);
    expect((await call("/v1/jwks", { method: "HEAD" })).status).toBe(200);
  });

  it("is served from the key cache: repeated requests cost Clerk nothing", async () => {
    await call("/v1/jwks");
    const before = (await emulatorCalls({ path: "/v1/jwks" })).length;
    for (let i = 0; i < 5; i++) expect((await call("/v1/jwks")).status).toBe(200);
    expect(await emulatorCalls({ path: "/v1/jwks" })).toHaveLength(before);
  });

  it("with no key cached and Clerk failing: an error in Clerk's envelope, and at most one call per interval", async () => {
    // A Backend-API origin this isolate has never loaded keys for (every host reaches the emulator in tests).
    const fresh = { ...env, CLERK_API_URL: "https://jwks-outage.clerk.test" };
    await setFault({ path: "/v1/jwks", mode: "500" });
    const send = async () => {
      const ctx = createExecutionContext();
      const response = await worker.fetch(gatewayRequest("/v1/jwks"), fresh as typeof env, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const first = await send();
    expect(first.status).toBeGreaterThanOrEqual(502);
    expect((await errorBody(first)).errors[0]?.code).toBe("upstream_unavailable");
    expect(first.headers.get("Cache-Control")).toBe("private, no-store");
    const calls = (await emulatorCalls({ path: "/v1/jwks" })).length;
    const second = await send();
    expect(second.status).toBe(503);
    expect(Number(second.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await emulatorCalls({ path: "/v1/jwks" })).toHaveLength(calls);
    await clearFaults();
  });
});

describe("@clerk/backend with apiUrl = the gateway verifies tokens unchanged", () => {
  it("verifyToken fetches the keys from the gateway and accepts a real session token", async () => {
    const alice = await signIn("alice");
    const claims = await sdk.verifyToken(alice.token, {
      apiUrl: GATEWAY_ORIGIN,
      secretKey: TEST_SERVICE_KEYS[0],
      authorizedParties: [...TEST_AUTHORIZED_PARTIES, "http://localhost:8787"],
    });
    expect(claims).toMatchObject({ sub: SEED.users.alice.id, sid: alice.session_id });
    expect(gatewayRequests).toContain("GET /v1/jwks");
  });

  it("authenticateRequest signs the request in (and a bad token out)", async () => {
    const bob = await signIn("bob");
    const client = sdk.createClerkClient({
      apiUrl: GATEWAY_ORIGIN,
      secretKey: TEST_SERVICE_KEYS[1],
      publishableKey: TEST_PUBLISHABLE_KEY,
    });
    const signedIn = await client.authenticateRequest(
      new Request("https://backend.example/api", { headers: { Authorization: `Bearer ${bob.token}` } }),
      { authorizedParties: ["http://localhost:8787"] },
    );
    expect(signedIn.isAuthenticated).toBe(true);
    expect(signedIn.toAuth()).toMatchObject({ userId: SEED.users.bob.id, sessionId: bob.session_id });
    expect(gatewayRequests).toEqual(["GET /v1/jwks"]);

    const [header, payload] = bob.token.split(".");
    const forged = await client.authenticateRequest(
      new Request("https://backend.example/api", { headers: { Authorization: `Bearer ${header}.${payload}.AAAA` } }),
      { authorizedParties: ["http://localhost:8787"] },
    );
    expect(forged.isAuthenticated).toBe(false);
  });
});

describe("Backend-API resources the gateway does not forward", () => {
  it("users.getUser without BAPI_PASSTHROUGH: a 404 that names the setting, and Clerk is not called", async () => {
    const client = sdk.createClerkClient({ secretKey: TEST_SERVICE_KEYS[0], apiUrl: GATEWAY_ORIGIN });
    const error = await client.users.getUser(SEED.users.alice.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClerkAPIResponseError);
    expect(error).toMatchObject({ status: 404, errors: [expect.objectContaining({ code: "resource_not_found" })] });
    const longMessage = (error as { errors: Array<{ longMessage?: string }> }).errors[0]?.longMessage;
    expect(longMessage).toContain("BAPI_PASSTHROUGH");
    expect(gatewayRequests).toEqual([`GET /v1/users/${SEED.users.alice.id}`]);
    expect(await emulatorCalls({ path: "/v1/users/*" })).toEqual([]);
  });

  it("the same 404 for any caller, any method, before authentication", async () => {
    for (const path of ["/v1/organizations", "/v1/users/user_x/metadata", "/v1/invitations?status=pending"]) {
      for (const method of ["GET", "POST", "DELETE"]) {
        const response = await call(path, { method });
        expect(response.status, `${method} ${path}`).toBe(404);
        expect((await errorBody(response)).errors[0]?.long_message).toContain("BAPI_PASSTHROUGH");
      }
    }
    expect(await emulatorCalls()).toEqual([]);
  });
});
