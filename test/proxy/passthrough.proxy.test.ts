import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { TEST_SECRET_KEY, TEST_SERVICE_KEYS } from "../support/config";
import { clearFaults, emulatorCalls, SEED, setFault, signIn } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, errorBody, GATEWAY_ORIGIN, SERVICE_KEY } from "../support/gateway";
import { TEST_BASE_PATH } from "./config";
import { clearOrigin, originRequests, sendWith, testEnv } from "./support";

/**
 * BAPI_PASSTHROUGH (this project enables `users,organizations`): the rest of the Backend
 * API for services, through the same `@clerk/backend` client that uses the gateway's
 * session routes. The gateway's routes are under GATEWAY_BASE_PATH here, so the client's
 * `apiUrl` is `https://gateway.test/clerk`.
 */
const API_URL = `${GATEWAY_ORIGIN}${TEST_BASE_PATH}`;
const V1 = `${TEST_BASE_PATH}/v1`;

type ClerkModule = typeof import("@clerk/backend");
let clerk: ReturnType<ClerkModule["createClerkClient"]>;

beforeAll(async () => {
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    return new URL(request.url).origin === GATEWAY_ORIGIN ? exports.default.fetch(request) : realFetch(request);
  });
  const sdk = await import("@clerk/backend");
  clerk = sdk.createClerkClient({ secretKey: TEST_SERVICE_KEYS[0], apiUrl: API_URL });
});

afterAll(() => {
  vi.unstubAllGlobals();
});

useFreshWorld();
beforeEach(clearOrigin);

describe("an enabled resource is forwarded to Clerk for services, with the secret key", () => {
  it("users.getUser through @clerk/backend pointed at the gateway", async () => {
    const user = await clerk.users.getUser(SEED.users.alice.id);
    expect(user.id).toBe(SEED.users.alice.id);
    const calls = await emulatorCalls({ path: `/v1/users/${SEED.users.alice.id}` });
    expect(calls).toHaveLength(1);
    // Clerk saw the gateway's secret key, not the service key the client holds.
    expect(calls[0]?.auth_ok).toBe(true);
    expect(await originRequests()).toEqual([]);
  });

  it("method, query and body are forwarded; Clerk's status and body come back", async () => {
    const body = JSON.stringify({ public_metadata: { plan: "pro" } });
    const response = await call(`${V1}/users/${SEED.users.bob.id}/metadata?x=1`, {
      method: "PATCH",
      serviceKey: SERVICE_KEY,
      body,
      headers: { "Content-Type": "application/json" },
    });
    // The emulator has no metadata route: Clerk's own 404, passed through.
    expect(response.status).toBe(404);
    expect((await errorBody(response)).errors[0]?.code).toBe("resource_not_found");
    const [seen] = await emulatorCalls({ path: `/v1/users/${SEED.users.bob.id}/metadata` });
    expect(seen).toMatchObject({
      method: "PATCH",
      search: "?x=1",
      body,
      content_type: "application/json",
      auth_ok: true,
    });
  });

  it("Clerk's 404 reaches the SDK as a ClerkAPIResponseError", async () => {
    const error = await clerk.users.getUser("user_doesNotExist000000000000000").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, errors: [expect.objectContaining({ code: "resource_not_found" })] });
  });

  it("Clerk's 429 comes back with its Retry-After", async () => {
    await setFault({ path: "/v1/users/*", mode: "429", retry_after_seconds: 17 });
    const response = await call(`${V1}/users/${SEED.users.alice.id}`, { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("17");
    // Clerk's own body, not the gateway's re-phrasing.
    expect((await errorBody(response)).errors[0]).toMatchObject({
      code: "rate_limit_exceeded",
      long_message: "Too many requests, retry later. Retry after 17 seconds.",
    });
    await clearFaults();
    // Clerk asked the gateway to stay away: the next call is refused without reaching it.
    const blocked = await call(`${V1}/users/${SEED.users.alice.id}`, { serviceKey: SERVICE_KEY });
    expect(blocked.status).toBe(429);
    expect(await emulatorCalls({ path: "/v1/users/*" })).toHaveLength(1);
  });

  it("Clerk refusing the gateway's secret key is a 502 that shows nothing of the key", async () => {
    const response = await sendWith(
      { CLERK_SECRET_KEY: "sk_test_notTheEmulatorsKey000000000000000" },
      `${V1}/users/${SEED.users.alice.id}`,
      { serviceKey: SERVICE_KEY },
    );
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(text).toContain("upstream_unavailable");
    expect(text).not.toContain("sk_test_");
    expect(text).not.toContain(TEST_SECRET_KEY);
  });

  it("forwarded calls count against the upstream guard; a refused one never leaves the gateway", async () => {
    const guarded = { RL_UPSTREAM_DEVELOPMENT: testEnv.RL_TEST_GUARD };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push(
        (await sendWith(guarded, `${V1}/users/${SEED.users.alice.id}`, { serviceKey: SERVICE_KEY })).status,
      );
    }
    expect(statuses).toContain(429);
    const passed = statuses.filter((s) => s === 200).length;
    expect(await emulatorCalls({ path: "/v1/users/*" })).toHaveLength(passed);
  });
});

describe("who may use it, and which paths: refused before anything reaches Clerk", () => {
  async function expectNoUpstream(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect((await errorBody(response)).errors[0]?.code).toBe(code);
    expect(await emulatorCalls({ path: /^\/v1\/(users|organizations|invitations)/ })).toEqual([]);
  }

  it("a signed-in user: 403", async () => {
    const alice = await signIn("alice");
    await expectNoUpstream(
      await call(`${V1}/users/${SEED.users.alice.id}`, { token: alice.token }),
      403,
      "authorization_invalid",
    );
  });

  it("anonymous or an unknown key: 401", async () => {
    await expectNoUpstream(await call(`${V1}/users/${SEED.users.alice.id}`), 401, "authentication_invalid");
    await expectNoUpstream(
      await call(`${V1}/users/${SEED.users.alice.id}`, { serviceKey: "gw_test_notAKeyTheGatewayKnows_000" }),
      401,
      "authentication_invalid",
    );
  });

  it("a resource that is not enabled: 404 naming BAPI_PASSTHROUGH", async () => {
    const response = await call(`${V1}/invitations`, { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(404);
    const body = await errorBody(response);
    expect(body.errors[0]?.code).toBe("resource_not_found");
    expect(body.errors[0]?.long_message).toContain("BAPI_PASSTHROUGH");
    expect(body.errors[0]?.long_message).toContain('"invitations"');
    expect(await emulatorCalls()).toEqual([]);
  });

  const badPaths = [
    `/users/${SEED.users.alice.id}%2F..%2F..%2Fsessions`,
    "/users/user_x%2Fsessions",
    "/users/%2e%2e%2fsessions",
    "/users/user_x%5C..%5Csessions",
    "/users/user_x%00",
    "/users/user%20x",
    "/users//sessions",
    "/users/user_x/..%2F",
  ];
  for (const path of badPaths) {
    it(`${path}: 400, never an upstream URL`, async () => {
      const response = await call(`${V1}${path}`, { serviceKey: SERVICE_KEY });
      expect(response.status).toBe(400);
      expect((await errorBody(response)).errors[0]).toMatchObject({
        code: "form_param_invalid",
        meta: { param_name: "path" },
      });
      expect(await emulatorCalls()).toEqual([]);
    });
  }

  it("a dot segment is resolved by the URL parser before routing: /users/../sessions is the gateway's own route", async () => {
    const response = await call(`${V1}/users/../sessions?user_id=${SEED.users.alice.id}`, { serviceKey: SERVICE_KEY });
    expect(response.status).toBe(200);
    expect(await emulatorCalls({ path: "/v1/users/*" })).toEqual([]);
  });
});
