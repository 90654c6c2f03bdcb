import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createGatewayClient, GatewayError } from "../client/index";
import { SEED, signIn } from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { GATEWAY_ORIGIN, SERVICE_KEY } from "./support/gateway";
import { validateBapi, validateFapi } from "./support/openapi";

const alice = SEED.users.alice;
const alicePhone = SEED.sessions.alicePhone;
const inProcess = (request: Request) => exports.default.fetch(request);

useFreshWorld();

describe("the typed client drives all ten operations", { timeout: 20_000 }, () => {
  it("as a signed-in user: the /v1/me operations the Active devices page uses", async () => {
    const me = await signIn("alice");
    let asked = 0;
    const client = createGatewayClient({
      baseUrl: GATEWAY_ORIGIN,
      fetch: inProcess,
      token: async () => {
        asked += 1;
        return me.token;
      },
    });
    const active = await client.me.activeSessions();
    expect(validateFapi("Client.ActiveSessions", active).errors).toEqual([]);
    expect(active.map((s) => s.id)).toContain(me.session_id);
    expect(active.map((s) => s.id)).toContain(alicePhone.id);
    expect(asked).toBe(1);

    const all = await client.me.sessions();
    expect(all.find((s) => s.id === me.session_id)?.factor_verification_age).toHaveLength(2);

    const revoked = await client.me.revoke(alicePhone.id);
    expect(revoked.client).toBeNull();
    expect(revoked.response).toMatchObject({ id: alicePhone.id, status: "revoked" });
    expect((await client.me.activeSessions()).map((s) => s.id)).not.toContain(alicePhone.id);

    // Its own session's token minting, as a user.
    const minted = await client.sessions.createToken(me.session_id);
    expect(minted.object).toBe("token");
    const template = await client.sessions.createTemplateToken(me.session_id, "supabase");
    expect(template.jwt.split(".")).toHaveLength(3);
  });

  it("as a service: the Backend-API operations, in Clerk's shapes", async () => {
    const client = createGatewayClient({ baseUrl: GATEWAY_ORIGIN, fetch: inProcess, token: SERVICE_KEY });
    const page = await client.sessions.list({ user_id: alice.id, status: "active", paginated: "true" });
    expect(page.total_count).toBe(page.data.length);
    expect(validateBapi("Session", page.data[0]).errors).toEqual([]);
    const plain = await client.sessions.list({ user_id: alice.id, limit: "2" });
    expect(plain).toHaveLength(2);

    const created = await client.sessions.create({ user_id: alice.id });
    expect(created.status).toBe("active");
    expect((await client.sessions.get(created.id)).id).toBe(created.id);
    const token = await client.sessions.createToken(created.id, { expires_in_seconds: 120 });
    expect(token.jwt).toBeTruthy();
    const revoked = await client.sessions.revoke(created.id);
    expect(revoked.status).toBe("revoked");
  });

  it("refreshes with the session's own expired token, sending no Authorization", async () => {
    const me = await signIn("alice");
    let authorization: string | null = "unset";
    const client = createGatewayClient({
      baseUrl: GATEWAY_ORIGIN,
      token: "never-sent-on-refresh",
      fetch: (request) => {
        authorization = request.headers.get("Authorization");
        return inProcess(request);
      },
    });
    const refreshed = await client.sessions.refresh(me.session_id, {
      expired_token: me.token,
      refresh_token: me.refresh_token,
      request_origin: "http://localhost:8787",
    });
    expect(authorization).toBeNull();
    expect(refreshed.object).toBe("token");
  });

  it("throws GatewayError with Clerk's error envelope", async () => {
    const anonymous = createGatewayClient({ baseUrl: GATEWAY_ORIGIN, fetch: inProcess });
    const error = await anonymous.me.activeSessions().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 401, code: "authentication_invalid" });

    const service = createGatewayClient({ baseUrl: GATEWAY_ORIGIN, fetch: inProcess, token: SERVICE_KEY });
    const invalid = (await service.sessions.get("sess_../../x").catch((e: unknown) => e)) as GatewayError;
    expect(invalid.status).toBe(400);
    expect(invalid.errors[0]?.meta).toEqual({ param_name: "session_id" });
  });
});
