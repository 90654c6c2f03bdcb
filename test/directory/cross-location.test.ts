import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REVOCATION_NEGATIVE_MEMORY_MS } from "../../src/core/isolate-memory";
import { DIRECTORY_TIMEOUT_MS } from "../../src/revocation/directory-client";
import { RECENT_MAX_STALE_MS, RECENT_REFRESH_MS, REFRESH_MIN_MS } from "../../src/revocation/recent-rules";
import { isRevokedHere } from "../../src/revocation/revocations";
import type { SessionDirectory } from "../../src/revocation/session-directory";
import { kvKeys } from "../../src/storage/kv-schema";
import { expectRefusedEverywhere } from "../security/routes";
import { directoryObject } from "../support/directory";
import { clearCalls, freshToken, setSessionStatus, signIn, upstreamCalls } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { type CallOptions, call, deliverLatestWebhook, kvJson, SERVICE_KEY } from "../support/gateway";
import { callB, callBWithoutLog, countersB } from "./locations";

/**
 * Two gateway locations: this test's Worker (A) and gateway B, another Worker with its own
 * isolate, sharing the KV namespace, the SessionDirectory objects and the revocation log. B's KV
 * reads never see a revocation marker (KV has not propagated it there), so whatever B refuses, it
 * learnt from the log (Clerk's 60 s tokens) or from the user's object. The bound under test
 * (docs/directory.md): a session revoked anywhere is refused everywhere within
 * RECENT_MAX_STALE_MS (the recent set's age limit, 1.2 s) plus one read of the log, or
 * REVOCATION_NEGATIVE_MEMORY_MS (1 s) plus one round trip to the user's object where the
 * per-user check applies.
 */

type Call = (path: string, options?: CallOptions) => Promise<Response>;

/** The older of the two memories (the recent set, "not revoked"), plus one object round trip, generously. */
const BOUND_MS = Math.max(RECENT_MAX_STALE_MS, REVOCATION_NEGATIVE_MEMORY_MS) + DIRECTORY_TIMEOUT_MS;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

useFreshWorld();

/** The user's object's revocation rows, read from its SQLite storage. */
function storedRevocations(userId: string) {
  const stub = directoryObject(userId);
  return runInDurableObject(stub, (_instance: SessionDirectory, state) =>
    state.storage.sql.exec("SELECT session_id, status, source FROM revoked ORDER BY session_id").toArray(),
  );
}

/** Polls `via` until the token is refused; returns how long after `since` that was. */
async function refusedAfter(via: Call, token: string, since: number): Promise<number> {
  for (;;) {
    const response = await via("/v1/me/sessions/active", { token });
    if (response.status === 401) return Date.now() - since;
    expect(response.status).toBe(200);
    if (Date.now() - since > 10 * BOUND_MS) throw new Error("the revoked session was never refused");
    await sleep(25);
  }
}

/** Both locations accept the session, so both have "not revoked" in memory when the revoke happens. */
async function warmBoth(token: string) {
  expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
  expect((await callB("/v1/me/sessions/active", { token })).status).toBe(200);
}

describe("a revoke through one location is refused by another within the bound", () => {
  it("revoked through A (/v1/me): B refuses within 1 s + one object round trip, with no marker in its KV", async () => {
    const phone = await signIn("alice");
    const laptop = await signIn("alice");
    const phoneToken = await freshToken(phone.session_id);
    await warmBoth(phoneToken);

    const revoke = await call(`/v1/me/sessions/${phone.session_id}/revoke`, { method: "POST", token: laptop.token });
    expect(revoke.status).toBe(200);
    const revokedAt = Date.now();
    // Reported done only once the object had it: it is there before anyone asks B.
    expect(await storedRevocations(phone.user_id)).toEqual([
      { session_id: phone.session_id, status: "revoked", source: "gateway" },
    ]);

    const elapsed = await refusedAfter(callB, phoneToken, revokedAt);
    console.log(`cross-location revocation (gateway revoke) refused after ${elapsed} ms`);
    expect(elapsed).toBeLessThanOrEqual(BOUND_MS);
    await expectRefusedEverywhere(callB, phone, phoneToken);
    // A refuses from memory at once; the laptop, still active, works at both.
    await expectRefusedEverywhere(call, phone, phoneToken);
    expect((await callB("/v1/me/sessions/active", { token: laptop.token })).status).toBe(200);
  });

  it("revoked through B (/v1/sessions, service): A refuses within the bound", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await warmBoth(token);

    const revoke = await callB(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(revoke.status).toBe(200);
    const revokedAt = Date.now();
    expect(isRevokedHere(device.session_id)).toBe(false);
    // One KV namespace: B's marker is here. Delete it: A must learn of the revocation from the object alone.
    expect(await kvJson(kvKeys.revoked(device.session_id))).toMatchObject({ status: "revoked", source: "gateway" });
    await env.SESSION_CACHE.delete(kvKeys.revoked(device.session_id));

    const elapsed = await refusedAfter(call, token, revokedAt);
    console.log(`cross-location revocation (service revoke at B) refused at A after ${elapsed} ms`);
    expect(elapsed).toBeLessThanOrEqual(BOUND_MS);
    await expectRefusedEverywhere(call, device, token);
    expect(isRevokedHere(device.session_id)).toBe(true);
  });

  it("a verified session.revoked webhook delivered to A: B refuses within the bound", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await warmBoth(token);

    await setSessionStatus(device.session_id, "revoked");
    expect((await deliverLatestWebhook("session.revoked")).status).toBe(200);
    const revokedAt = Date.now();
    expect(await storedRevocations(device.user_id)).toEqual([
      { session_id: device.session_id, status: "revoked", source: "webhook" },
    ]);

    const elapsed = await refusedAfter(callB, token, revokedAt);
    console.log(`cross-location revocation (webhook) refused after ${elapsed} ms`);
    expect(elapsed).toBeLessThanOrEqual(BOUND_MS);
    await expectRefusedEverywhere(callB, device, token);
  });

  it("a session.ended webhook delivered to B: A refuses within the bound", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await warmBoth(token);

    await setSessionStatus(device.session_id, "ended");
    expect((await deliverLatestWebhook("session.ended", callB)).status).toBe(200);
    const revokedAt = Date.now();
    await env.SESSION_CACHE.delete(kvKeys.revoked(device.session_id));

    const elapsed = await refusedAfter(call, token, revokedAt);
    console.log(`cross-location revocation (webhook at B) refused at A after ${elapsed} ms`);
    expect(elapsed).toBeLessThanOrEqual(BOUND_MS);
    await expectRefusedEverywhere(call, device, token);
  });
});

describe("the object is the authority: KV can lose everything", () => {
  it("a revoked session stays refused at both locations after all KV state is wiped", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await warmBoth(token);
    expect(
      (await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY })).status,
    ).toBe(200);

    // Every key of the shared namespace, markers, lists, JWKS and webhook ids alike.
    let cursor: string | undefined;
    do {
      const page = await env.SESSION_CACHE.list(cursor ? { cursor } : {});
      await Promise.all(page.keys.map((key) => env.SESSION_CACHE.delete(key.name)));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    expect((await env.SESSION_CACHE.list()).keys).toEqual([]);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();

    await sleep(Math.max(RECENT_MAX_STALE_MS, REVOCATION_NEGATIVE_MEMORY_MS) + 50);
    await expectRefusedEverywhere(callB, device, token);
    await expectRefusedEverywhere(call, device, token);
    expect(await storedRevocations(device.user_id)).toHaveLength(1);
  });

  it("a session still active is accepted at both locations, and the object holds nothing for it (the control)", async () => {
    const device = await signIn("alice");
    const token = await freshToken(device.session_id);
    await warmBoth(token);
    await sleep(REVOCATION_NEGATIVE_MEMORY_MS + 50);
    await warmBoth(token);
    expect(await storedRevocations(device.user_id)).toEqual([]);
  });
});

describe("a revoke racing uses of the same token at another location", () => {
  it("B's uses overlapping A's revoke: none started after the bound is served, and once B refuses it never serves again", async () => {
    const phone = await signIn("alice");
    const laptop = await signIn("alice");
    const token = await freshToken(phone.session_id);
    await warmBoth(token);

    const uses: Array<{ startedAt: number; status: number }> = [];
    let stop = false;
    // Two clients at B, as an attacker with the stolen token would drive them. The 10 ms pause is
    // Miniflare's: the objects live in this test's own isolate, and back-to-back subrequests from
    // it starve the object's calls (each one times out), which no deployment shares.
    const hammer = async () => {
      while (!stop) {
        const startedAt = Date.now();
        const response = await callB("/v1/me/sessions/active", { token });
        uses.push({ startedAt, status: response.status });
        await response.body?.cancel();
        await sleep(10);
      }
    };
    const clients = [hammer(), hammer()];
    await sleep(150);
    const revoke = await call(`/v1/me/sessions/${phone.session_id}/revoke`, { method: "POST", token: laptop.token });
    expect(revoke.status).toBe(200);
    const revokedAt = Date.now();
    await sleep(BOUND_MS + 300);
    stop = true;
    await Promise.all(clients);

    for (const use of uses) expect([200, 401]).toContain(use.status);
    const late = uses.filter((use) => use.startedAt > revokedAt + BOUND_MS);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((use) => use.status === 401)).toBe(true);
    const ordered = [...uses].sort((a, b) => a.startedAt - b.startedAt);
    const firstRefused = ordered.findIndex((use) => use.status === 401);
    expect(firstRefused).toBeGreaterThanOrEqual(0);
    expect(ordered.slice(firstRefused).filter((use) => use.status === 200)).toEqual([]);
    console.log(
      `revoke-and-use race: ${uses.length} uses at B, last served ${Math.max(...uses.filter((u) => u.status === 200).map((u) => u.startedAt)) - revokedAt} ms after the revoke answered`,
    );
  });
});

describe("recent revocations per location: Clerk's tokens are checked with no object call", () => {
  it("B's steady-state requests ask no SessionDirectory and read the log about once a second; a revoke at A is refused by B within the bound, still with no directory call", async () => {
    const phone = await signIn("alice");
    const laptop = await signIn("alice");
    const token = await freshToken(phone.session_id);
    // B's first request reads the whole recent set (one log read, waited for).
    expect((await callB("/v1/me/sessions/active", { token })).status).toBe(200);

    const before = await countersB();
    const started = Date.now();
    let requests = 0;
    while (Date.now() - started < 2_500) {
      const response = await callB("/v1/me/sessions/active", { token });
      expect(response.status).toBe(200);
      await response.body?.cancel();
      requests++;
      await sleep(20);
    }
    const elapsed = Date.now() - started;
    const steady = await countersB();
    const logReads = steady.memory_log_reads - before.memory_log_reads;
    console.log(`steady state at B: ${requests} requests in ${elapsed} ms, ${logReads} log reads, 0 directory calls`);
    expect(steady.memory_directory_reads - before.memory_directory_reads).toBe(0);
    // At most one read per REFRESH_MIN_MS (the jittered refresh age), single flight; at least one per RECENT_REFRESH_MS.
    expect(logReads).toBeLessThanOrEqual(Math.ceil(elapsed / REFRESH_MIN_MS) + 1);
    expect(logReads).toBeGreaterThanOrEqual(Math.floor(elapsed / (RECENT_REFRESH_MS + 500)));
    expect(logReads).toBeLessThan(requests / 4);

    const revoke = await call(`/v1/me/sessions/${phone.session_id}/revoke`, { method: "POST", token: laptop.token });
    expect(revoke.status).toBe(200);
    const revokedAt = Date.now();
    await clearCalls();
    const refusedIn = await refusedAfter(callB, token, revokedAt);
    console.log(`cross-location revocation through the recent set refused after ${refusedIn} ms`);
    expect(refusedIn).toBeLessThanOrEqual(RECENT_MAX_STALE_MS + DIRECTORY_TIMEOUT_MS);
    expect(await upstreamCalls()).toBe(0);
    // Learnt from the log: B never asked the user's object, and never saw a KV marker.
    expect((await countersB()).memory_directory_reads - before.memory_directory_reads).toBe(0);
    expect((await callB("/v1/me/sessions/active", { token: laptop.token })).status).toBe(200);
  });

  it("when B cannot read the recent set, its checks fall back to the user's SessionDirectory: a revoked session is still refused, an active one served", async () => {
    const device = await signIn("alice");
    const other = await signIn("bob");
    const token = await freshToken(device.session_id);
    expect((await callB("/v1/me/sessions/active", { token })).status).toBe(200);
    expect(
      (await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY })).status,
    ).toBe(200);
    // B's set is now too old to answer on its own, and every read of the log fails.
    await sleep(RECENT_MAX_STALE_MS + 50);

    const before = await countersB();
    await clearCalls();
    expect((await callBWithoutLog("/v1/me/sessions/active", { token })).status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
    const refused = await countersB();
    expect(refused.memory_log_reads - before.memory_log_reads).toBe(1);
    expect(refused.memory_directory_reads - before.memory_directory_reads).toBe(1);

    expect((await callBWithoutLog("/v1/me/sessions/active", { token: other.token })).status).toBe(200);
    const served = await countersB();
    expect(served.memory_directory_reads - refused.memory_directory_reads).toBe(1);
    // Once the log answers again, the recent set refuses the revoked session with no directory call.
    await sleep(RECENT_MAX_STALE_MS + 50);
    expect((await callB("/v1/me/sessions/active", { token })).status).toBe(401);
  });
});
