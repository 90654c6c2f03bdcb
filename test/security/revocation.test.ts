import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { REVOCATION_NEGATIVE_MEMORY_MS } from "../../src/core/isolate-memory";
import { RECENT_MAX_STALE_MS } from "../../src/revocation/recent-rules";
import { isRevokedHere } from "../../src/revocation/revocations";
import { kvKeys } from "../../src/storage/kv-schema";
import { appendToLog, directoryObject } from "../support/directory";
import { freshToken, type SignedIn, setFault, setSessionStatus, signIn } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, deliverLatestWebhook, kvJson, SERVICE_KEY, serviceMintedToken } from "../support/gateway";
import { expectRefusedEverywhere } from "./routes";

/**
 * Clerk honours a revoked session's token until it expires (up to 60 s, longer for tokens
 * minted with expires_in_seconds). The gateway refuses it at once, on every route, in the
 * isolate that learnt of it (memory), and in every other isolate and location through the
 * user's SessionDirectory object (KV markers without it: test/directory/). Each test revokes a
 * session it signed in itself, so seeded sessions stay usable.
 */

useFreshWorld();

/** A new session of alice's and a fresh token of it that the gateway accepts now, so a later 401 is the revocation's doing. */
async function acceptedDevice(): Promise<{ device: SignedIn; token: string }> {
  const device = await signIn("alice");
  const token = await freshToken(device.session_id);
  expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
  return { device, token };
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
    await expectRefusedEverywhere(call, phone, phoneToken);
  });

  it("revoked by a service (/v1/sessions/{id}/revoke)", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    const revoke = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(revoke.status).toBe(200);
    await expectRefusedEverywhere(call, device, token);
  });

  it("signing out of the current session refuses that session's token at once", async () => {
    const device = await signIn("alice");
    const revoke = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", token: device.token });
    expect(revoke.status).toBe(200);
    await expectRefusedEverywhere(call, device, device.token);
  });

  it("a long-lived minted token (expires_in_seconds) is refused too", async () => {
    const device = await signIn("alice");
    const jwt = await serviceMintedToken(device.session_id, 3600);
    expect((await call("/v1/me/sessions/active", { token: jwt })).status).toBe(200);
    await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    await expectRefusedEverywhere(call, device, jwt);
  });
});

describe("a session reported revoked by a signed webhook is refused at once on every route", () => {
  it("session.revoked from Clerk (revoked elsewhere, e.g. in Clerk's dashboard)", async () => {
    const { device, token } = await acceptedDevice();
    await setSessionStatus(device.session_id, "revoked");
    expect((await deliverLatestWebhook("session.revoked")).status).toBe(200);
    await expectRefusedEverywhere(call, device, token);
  });
});

describe("the revocation reaches other isolates and locations", () => {
  it("a record another isolate wrote in the user's object (this isolate never saw the revoke) refuses the session", async () => {
    const { device, token } = await acceptedDevice();
    expect(isRevokedHere(device.session_id)).toBe(false);
    // What another location's gateway records when it revokes (docs/directory.md); KV never sees it here.
    await directoryObject(device.user_id).recordRevoked(device.session_id, "revoked", "gateway");
    await appendToLog(device.session_id);
    // This isolate checked the session a moment ago; its recent set answers alone for at most
    // RECENT_MAX_STALE_MS ("not revoked" for REVOCATION_NEGATIVE_MEMORY_MS on the per-user path):
    // that is the bound a revocation made elsewhere adds here.
    advanceClock(Math.max(RECENT_MAX_STALE_MS, REVOCATION_NEGATIVE_MEMORY_MS));
    await expectRefusedEverywhere(call, device, token);
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
    await expectRefusedEverywhere(call, device, token);
  });

  it("a session that is still active is not refused (the control)", async () => {
    const { device } = await acceptedDevice();
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
