import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../src/cache/kv-schema";
import { REVOCATION_NEGATIVE_MEMORY_MS } from "../../src/cache/memory";
import { isRevokedHere } from "../../src/cache/revocations";
import {
  clearCalls,
  freshToken,
  type SignedIn,
  setFault,
  setSessionStatus,
  signIn,
  upstreamCalls,
  webhookDeliveries,
} from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, errorBody, kvJson, SERVICE_KEY } from "../support/gateway";
import { everyRoute } from "./routes";

/**
 * Clerk honours a revoked session's token until it expires (up to 60 s, longer for tokens
 * minted with expires_in_seconds). The gateway refuses it at once, on every route, in the
 * isolate that learnt of it (memory), and in every other isolate and location through the
 * user's SessionDirectory object (KV markers without it: test/directory/). Each test revokes a
 * session it signed in itself, so seeded sessions stay usable.
 */

useFreshWorld();

/** The revoked session's own token on every route (and as refresh's expired_token): all 401, none reaches Clerk. */
async function expectRefusedEverywhere(device: SignedIn, token: string) {
  expect(decodeJwt(token).exp).toBeGreaterThan(Date.now() / 1000);
  await clearCalls();
  for (const route of everyRoute(device.session_id)) {
    const response = await call(route.path, {
      method: route.method,
      token,
      ...(route.json ? { json: route.json } : {}),
    });
    expect(response.status, route.name).toBe(401);
    expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
  }
  const refresh = await call(`/v1/sessions/${device.session_id}/refresh`, {
    method: "POST",
    json: { expired_token: token, refresh_token: device.refresh_token, request_origin: "http://localhost:8787" },
  });
  expect(refresh.status, "refresh").toBe(401);
  expect(await upstreamCalls()).toBe(0);
}

describe("a session revoked through the gateway is refused at once on every route", () => {
  it("revoked by its owner from another device (/v1/me)", async () => {
    const phone = await signIn("alice");
    const laptop = await signIn("alice");
    const phoneToken = await freshToken(phone.session_id);
    expect((await call("/v1/me/sessions/active", { token: phoneToken })).status).toBe(200);

    const revoke = await call(`/v1/me/sessions/${phone.session_id}/revoke`, { method: "POST", token: laptop.token });
    expect(revoke.status).toBe(200);
    expect(await kvJson(kvKeys.revoked(phone.session_id))).toMatchObject({ status: "revoked", source: "gateway" });
    await expectRefusedEverywhere(phone, phoneToken);
  });

  it("revoked by a service (/v1/sessions/{id}/revoke)", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    const revoke = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(revoke.status).toBe(200);
    await expectRefusedEverywhere(device, token);
  });

  it("signing out of the current session refuses that session's token at once", async () => {
    const device = await signIn("alice");
    const revoke = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", token: device.token });
    expect(revoke.status).toBe(200);
    await expectRefusedEverywhere(device, device.token);
  });

  it("a long-lived minted token (expires_in_seconds) is refused too", async () => {
    const device = await signIn("alice");
    const minted = await call(`/v1/sessions/${device.session_id}/tokens`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
      json: { expires_in_seconds: 3600 },
    });
    const { jwt } = (await minted.json()) as { jwt: string };
    expect((await call("/v1/me/sessions/active", { token: jwt })).status).toBe(200);
    await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    await expectRefusedEverywhere(device, jwt);
  });
});

describe("a session reported revoked by a signed webhook is refused at once on every route", () => {
  it("session.revoked from Clerk (revoked elsewhere, e.g. in Clerk's dashboard)", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
    await setSessionStatus(device.session_id, "revoked");
    const [delivery] = (await webhookDeliveries("session.revoked")).slice(-1);
    if (!delivery) throw new Error("no delivery");
    const response = await call("/webhooks/clerk", { method: "POST", headers: delivery.headers, body: delivery.body });
    expect(response.status).toBe(200);
    await expectRefusedEverywhere(device, token);
  });
});

describe("the revocation reaches other isolates and locations", () => {
  it("a record another isolate wrote in the user's object (this isolate never saw the revoke) refuses the session", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
    expect(isRevokedHere(device.session_id)).toBe(false);
    // What another location's gateway records when it revokes (docs/directory.md); KV never sees it here.
    const directory = env.SESSION_DIRECTORY;
    if (!directory) throw new Error("SESSION_DIRECTORY is bound in wrangler.toml");
    await directory.get(directory.idFromName(device.user_id)).recordRevoked(device.session_id, "revoked", "gateway");
    // This isolate checked the session a moment ago and believes "not revoked" for at most
    // REVOCATION_NEGATIVE_MEMORY_MS: that is the bound a revocation made elsewhere adds here.
    await new Promise((resolve) => setTimeout(resolve, REVOCATION_NEGATIVE_MEMORY_MS + 50));
    await expectRefusedEverywhere(device, token);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();
    // Learnt once, it is then held in this isolate's memory: no lookup needed next time.
    expect(isRevokedHere(device.session_id)).toBe(true);
  });

  it("the isolate that revoked refuses without KV (memory is exact even before KV has it)", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    await env.SESSION_CACHE.delete(kvKeys.revoked(device.session_id));
    expect(isRevokedHere(device.session_id)).toBe(true);
    await expectRefusedEverywhere(device, token);
  });

  it("a session that is still active is not refused (the control)", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();
  });
});

describe("a failed revoke changes nothing", () => {
  it("Clerk refusing the revoke leaves no marker and the token working", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await setFault({ method: "POST", path: "/v1/sessions/*/revoke", mode: "503", times: 1 });
    const revoke = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(revoke.status).toBe(503);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();
    expect(isRevokedHere(device.session_id)).toBe(false);
    expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
  });
});
