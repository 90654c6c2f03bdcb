import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app";
import { CLOCK_SKEW_SECONDS } from "../src/auth/session-token";
import { advanceClock, freezeClock, now } from "../src/core/clock";
import { BoundedMap, registeredMap, SESSION_LIST_MEMORY_MS } from "../src/core/isolate-memory";
import type { Bindings } from "../src/http/app-env";
import { RECENT_MAX_STALE_MS } from "../src/revocation/recent-rules";
import { kvKeys } from "../src/storage/kv-schema";
import { settled } from "../src/storage/kv-writer";
import { appendToLog, directoryObject } from "./support/directory";
import { clearCalls, emulatorCalls, freshToken, SEED, signIn, tokenWith } from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { call, gatewayRequest, SERVICE_KEY } from "./support/gateway";

/**
 * The per-isolate memory layers of src/core/isolate-memory.ts: they make the warm path fast and
 * must never make the gateway accept or serve what KV and Clerk would not, beyond the
 * stated bounds. Time is the gateway's clock (src/core/clock.ts), moved by the tests: no test
 * waits for it, and none depends on how fast the machine runs it.
 */
const ACTIVE = "/v1/me/sessions/active";
const listCalls = async () => (await emulatorCalls()).filter((c) => c.path === "/v1/sessions").length;

useFreshWorld();

const sessionListMemory = () => {
  const map = registeredMap("sessionLists");
  if (!map) throw new Error("the session-list memory is not registered");
  return map;
};

describe("BoundedMap", () => {
  it("forgets entries after their time and evicts the oldest beyond its size", () => {
    const memo = new BoundedMap<string, number>("test", { maxEntries: 2, maxBytes: 1_000_000 }, () => 8);
    memo.set("a", 1, 100, 1_000);
    expect(memo.get("a", 1_099)).toBe(1);
    expect(memo.get("a", 1_100)).toBeUndefined();
    memo.set("a", 1, 100, 2_000);
    memo.set("b", 2, 100, 2_000);
    memo.set("c", 3, 100, 2_000);
    expect(memo.size).toBe(2);
    expect(memo.get("a", 2_001)).toBeUndefined();
    expect(memo.get("c", 2_001)).toBe(3);
    memo.set("d", 4, 0, 2_000);
    expect(memo.get("d", 2_000)).toBeUndefined();
  });
});

describe("revocation with memory layers", () => {
  it("refuses a session revoked through this isolate at once, though its token and list were just served from memory", async () => {
    const signedIn = await signIn("alice");
    const token = signedIn.token;
    for (let i = 0; i < 3; i++) expect((await call(ACTIVE, { token })).status).toBe(200);

    const revoke = await call(`/v1/sessions/${signedIn.session_id}/revoke`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
    });
    expect(revoke.status).toBe(200);
    expect((await call(ACTIVE, { token })).status).toBe(401);
  });

  it("hides a session revoked through this isolate from the caller's list at once", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    const before = (await (await call(ACTIVE, { token })).json()) as Array<{ id: string }>;
    expect(before.map((s) => s.id)).toContain(SEED.sessions.alicePhone.id);
    await call(ACTIVE, { token }); // now in memory

    const revoke = await call(`/v1/sessions/${SEED.sessions.alicePhone.id}/revoke`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
    });
    expect(revoke.status).toBe(200);
    const after = (await (await call(ACTIVE, { token })).json()) as Array<{ id: string }>;
    expect(after.map((s) => s.id)).not.toContain(SEED.sessions.alicePhone.id);
  });

  it(`sees a revocation recorded elsewhere (another isolate) within ${RECENT_MAX_STALE_MS} ms`, async () => {
    const signedIn = await signIn("bob");
    expect((await call(ACTIVE, { token: signedIn.token })).status).toBe(200);
    // Another isolate or location revoked it: the user's SessionDirectory object and the revocation log know.
    await directoryObject(signedIn.user_id).recordRevoked(signedIn.session_id, "revoked", "webhook");
    await appendToLog(signedIn.session_id);
    // The recent set read at the 200 above answers alone until it is RECENT_MAX_STALE_MS old, no longer.
    advanceClock(RECENT_MAX_STALE_MS);
    expect((await call(ACTIVE, { token: signedIn.token })).status).toBe(401);
  });
});

describe("the session-list memory never serves beyond KV freshness", () => {
  it("treats a remembered list by its fetched_at: a list that turns stale in memory is re-read from Clerk", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    const first = await call(ACTIVE, { token });
    expect(first.headers.get("X-Cache")).toBe("MISS");
    await settled(); // the write-through to KV lands (waitUntil)

    // The KV entry is 300 ms from the end of its freshness (SESSION_CACHE_TTL_SECONDS = 30), on a stopped clock.
    freezeClock();
    const key = kvKeys.activeSessions(SEED.users.alice.id);
    const entry = (await env.SESSION_CACHE.get(key, "json")) as { fetched_at: number };
    await env.SESSION_CACHE.put(key, JSON.stringify({ ...entry, fetched_at: now() - 30_000 + 300 }));
    sessionListMemory().clear();

    const hit = await call(ACTIVE, { token });
    expect(hit.headers.get("X-Cache")).toBe("HIT");
    expect(sessionListMemory().size).toBe(1);
    await clearCalls();
    advanceClock(400);
    expect(400).toBeLessThan(SESSION_LIST_MEMORY_MS); // still in memory, no longer fresh
    const again = await call(ACTIVE, { token });
    expect(again.headers.get("X-Cache")).toBe("MISS");
    expect(await listCalls()).toBe(1);
  });

  it("serves repeated reads from memory with no KV read and no call to Clerk", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    await call(ACTIVE, { token });
    await settled();
    await clearCalls();
    for (let i = 0; i < 5; i++) expect((await call(ACTIVE, { token })).headers.get("X-Cache")).toBe("HIT");
    expect(await listCalls()).toBe(0);
  });
});

describe("verified-token memory", () => {
  it(`never accepts a token past its exp (+${CLOCK_SKEW_SECONDS} s skew), however recently it was verified`, async () => {
    freezeClock();
    const nowS = Math.floor(now() / 1000);
    // Expired 4 s ago: still inside the 5 s skew, so accepted, and remembered.
    const exp = nowS - 4;
    const token = await tokenWith(SEED.sessions.aliceDesktop.id, { exp, iat: nowS - 64, nbf: nowS - 74 });
    expect((await call(ACTIVE, { token })).status).toBe(200);
    expect((await call(ACTIVE, { token })).status).toBe(200);
    // The last millisecond of the skew: still accepted (from memory); the next one: refused.
    advanceClock((exp + CLOCK_SKEW_SECONDS) * 1000 - 1 - now());
    expect((await call(ACTIVE, { token })).status).toBe(200);
    advanceClock(1);
    expect((await call(ACTIVE, { token })).status).toBe(401);
  });
});

describe("SESSION_CACHE_TTL_SECONDS=0 disables the session cache", () => {
  it("sends every read to Clerk and writes nothing to KV", async () => {
    const bindings = { ...(env as unknown as Bindings), SESSION_CACHE_TTL_SECONDS: "0" } as Bindings;
    const app = createApp();
    const token = await freshToken(SEED.sessions.carolDesktop.id);
    await clearCalls();
    for (let i = 0; i < 3; i++) {
      const response = await app.request(gatewayRequest(ACTIVE, { token }), undefined, bindings);
      expect(response.status).toBe(200);
      expect(response.headers.get("X-Cache")).toBe("MISS");
    }
    expect(await listCalls()).toBe(3);
    expect(await env.SESSION_CACHE.get(kvKeys.activeSessions(SEED.users.carol.id))).toBeNull();
  });
});
