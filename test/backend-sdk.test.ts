import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { TEST_SERVICE_KEYS } from "./support/config";
import { emulatorCalls, SEED } from "./support/emulator";
import { freshWorld } from "./support/fresh-world";
import { GATEWAY_ORIGIN } from "./support/gateway";

/**
 * The official `@clerk/backend` client, pointed at the gateway with a service key:
 * `createClerkClient({ secretKey: <service key>, apiUrl: <gateway origin> })`.
 * Requests to the gateway's origin are handed to the gateway in-process; everything
 * else (the gateway's own calls to Clerk) still goes to the emulator.
 */
type ClerkModule = typeof import("@clerk/backend");
let clerk: ReturnType<ClerkModule["createClerkClient"]>;
let ClerkAPIResponseError: typeof import("@clerk/backend/errors").ClerkAPIResponseError | undefined;
const gatewayRequests: string[] = [];

beforeAll(async () => {
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (new URL(request.url).origin === GATEWAY_ORIGIN) {
      gatewayRequests.push(`${request.method} ${new URL(request.url).pathname}`);
      return exports.default.fetch(request);
    }
    return realFetch(request);
  });
  // Imported after the stub: the SDK may bind `fetch` when it loads.
  const sdk = await import("@clerk/backend");
  clerk = sdk.createClerkClient({ secretKey: TEST_SERVICE_KEYS[0], apiUrl: GATEWAY_ORIGIN });
  ({ ClerkAPIResponseError } = await import("@clerk/backend/errors"));
});

afterAll(() => {
  vi.unstubAllGlobals();
});

beforeEach(async () => {
  await freshWorld();
  gatewayRequests.length = 0;
});

describe("@clerk/backend works against the gateway unchanged", () => {
  it("lists a user's sessions (paginated, as the SDK always asks)", async () => {
    const list = await clerk.sessions.getSessionList({ userId: SEED.users.alice.id, status: "active" });
    expect(list.totalCount).toBe(3);
    expect(list.data.map((s) => s.userId)).toEqual(Array(3).fill(SEED.users.alice.id));
    expect(list.data[0]?.latestActivity?.browserName).toBeTypeOf("string");
    expect(gatewayRequests).toEqual(["GET /v1/sessions"]);
  });

  it("gets and revokes a session, and the revoke reaches Clerk", async () => {
    const id = SEED.sessions.bobPhone.id;
    const session = await clerk.sessions.getSession(id);
    expect(session).toMatchObject({ id, userId: SEED.users.bob.id, status: "active" });
    const revoked = await clerk.sessions.revokeSession(id);
    expect(revoked.status).toBe("revoked");
    expect((await emulatorCalls()).filter((c) => c.path === `/v1/sessions/${id}/revoke`)).toHaveLength(1);
  });

  it("mints session tokens and JWT-template tokens", async () => {
    const id = SEED.sessions.aliceDesktop.id;
    const token = await clerk.sessions.getToken(id);
    expect(token.jwt.split(".")).toHaveLength(3);
    const template = await clerk.sessions.getToken(id, "supabase", 120);
    expect(template.jwt.split(".")).toHaveLength(3);
  });

  it("creates a session", async () => {
    const created = await clerk.sessions.createSession({ userId: SEED.users.carol.id });
    expect(created).toMatchObject({ userId: SEED.users.carol.id, status: "active" });
  });

  it("surfaces gateway and Clerk errors as ClerkAPIResponseError with their codes", async () => {
    const notFound = await clerk.sessions.getSession("sess_doesNotExist0000000000000000").catch((e: unknown) => e);
    expect(ClerkAPIResponseError && notFound instanceof ClerkAPIResponseError).toBe(true);
    expect(notFound).toMatchObject({ status: 404, errors: [expect.objectContaining({ code: "resource_not_found" })] });

    const invalid = await clerk.sessions
      .getSessionList({ userId: SEED.users.alice.id, limit: 501 })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({
      status: 400,
      errors: [
        expect.objectContaining({ code: "form_param_invalid", meta: expect.objectContaining({ paramName: "limit" }) }),
      ],
    });

    const stranger = (await import("@clerk/backend")).createClerkClient({
      secretKey: "gw_test_notAConfiguredKey_00000",
      apiUrl: GATEWAY_ORIGIN,
    });
    const refused = await stranger.sessions.getSession(SEED.sessions.aliceDesktop.id).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      status: 401,
      errors: [expect.objectContaining({ code: "authentication_invalid" })],
    });
  });
});
