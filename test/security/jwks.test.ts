import { env } from "cloudflare:workers";
import { base64url, decodeJwt, decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { JWKS_REFRESH_AFTER_MS, JwksKeyStore, UNKNOWN_KID_REFETCH_INTERVAL_MS } from "../../src/auth/jwks";
import { ClerkClient } from "../../src/clerk/client";
import { loadConfig } from "../../src/config/settings";
import { ApiError } from "../../src/core/errors";
import { clearCalls, clearFaults, emulatorKid, setFault, signIn, upstreamCalls } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, errorBody } from "../support/gateway";

/**
 * Clerk's signing keys at the edge: memory, then KV, then Clerk; an unknown kid costs at
 * most one fetch per interval per isolate; concurrent fetches share one call; known keys
 * keep working while Clerk is down. The store under test takes a clock, so intervals are
 * crossed without waiting.
 */

const config = loadConfig(env);
/** The emulator's real kid (its instance ID and the start of its key's thumbprint). */
let KID: string;
beforeAll(async () => {
  KID = await emulatorKid();
});
const randomKid = () => `ins_${crypto.randomUUID().replace(/-/g, "")}`;

/** A token with a made-up kid: the kid lookup happens before any signature check, so the signature can be junk. */
function forgedWithKid(kid: string, claims: Record<string, unknown>) {
  const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${enc({ alg: "RS256", kid, typ: "JWT", cat: "cl_B7d4PD111AAA" })}.${enc(claims)}.${base64url.encode(crypto.getRandomValues(new Uint8Array(256)))}`;
}

function harness() {
  // Starts at the real time: KV entries carry real timestamps.
  let now = Date.now();
  let fetches = 0;
  const pending: Promise<unknown>[] = [];
  const store = new JwksKeyStore(config.apiUrl, { now: () => now });
  const clerk = new ClerkClient(config, {
    guard: { unguarded: "test" },
    fetch: (input, init) => {
      fetches++;
      return fetch(input, init);
    },
  });
  const deps = { kv: env.SESSION_CACHE, clerk: () => clerk, waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  return {
    store,
    deps,
    fetches: () => fetches,
    advance: (ms: number) => {
      now += ms;
    },
    settle: () => Promise.all(pending.splice(0)),
  };
}

async function expectStatus(promise: Promise<unknown>, status: number) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBe(status);
}

useFreshWorld();

describe("a flood of tokens with random kids costs at most one JWKS fetch per interval", () => {
  it("through the gateway: 300 forged kids, concurrently, cost one fetch, and a real token still works", async () => {
    const alice = await signIn("alice");
    const claims = decodeJwt(alice.token);
    await clearCalls();
    const flood = Array.from({ length: 300 }, () => forgedWithKid(randomKid(), claims));
    for (let i = 0; i < flood.length; i += 100) {
      const responses = await Promise.all(
        flood.slice(i, i + 100).map((token) => call("/v1/me/sessions/active", { token })),
      );
      for (const response of responses) {
        expect(response.status).toBe(401);
        expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
      }
    }
    // This file's isolate had no keys: the first forged kid made it fetch once; all others joined or were refused.
    expect(await upstreamCalls({ path: "/v1/jwks" })).toBe(1);
    expect(await upstreamCalls()).toBe(1);
    // The genuine kid was in that one fetch: no further JWKS call.
    expect(decodeProtectedHeader(alice.token).kid).toBe(KID);
    expect((await call("/v1/me/sessions/active", { token: alice.token })).status).toBe(200);
    expect(await upstreamCalls({ path: "/v1/jwks" })).toBe(1);
  });

  it("in the store: one fetch per interval, however many unknown kids arrive", async () => {
    const h = harness();
    await expectStatus(h.store.getKey(randomKid(), h.deps), 401);
    expect(h.fetches()).toBe(1);
    for (let i = 0; i < 200; i++) await expectStatus(h.store.getKey(randomKid(), h.deps), 401);
    expect(h.fetches()).toBe(1);
    h.advance(UNKNOWN_KID_REFETCH_INTERVAL_MS - 1);
    await expectStatus(h.store.getKey(randomKid(), h.deps), 401);
    expect(h.fetches()).toBe(1);
    h.advance(1);
    await Promise.all(Array.from({ length: 50 }, () => expectStatus(h.store.getKey(randomKid(), h.deps), 401)));
    expect(h.fetches()).toBe(2);
    expect(h.store.remoteFetches).toBe(2);
  });

  it("concurrent lookups on a cold store share one fetch", async () => {
    const h = harness();
    const keys = await Promise.all(Array.from({ length: 25 }, () => h.store.getKey(KID, h.deps)));
    expect(new Set(keys).size).toBe(1);
    expect(h.fetches()).toBe(1);
  });
});

describe("keys come from memory, then KV, then Clerk", () => {
  it("a second isolate's store finds the keys in KV without calling Clerk", async () => {
    const first = harness();
    await first.store.getKey(KID, first.deps);
    await first.settle();
    expect(first.fetches()).toBe(1);
    const second = harness();
    await second.store.getKey(KID, second.deps);
    expect(second.fetches()).toBe(0);
    // And from memory after that: neither KV nor Clerk.
    await second.store.getKey(KID, { ...second.deps, kv: undefined as unknown as KVNamespace });
    expect(second.fetches()).toBe(0);
  });
});

describe("known keys keep working while Clerk is unreachable", () => {
  it("serves a known kid through a failed refresh, and refuses unknown kids with 401, not 5xx", async () => {
    const h = harness();
    const key = await h.store.getKey(KID, h.deps);
    await setFault({ path: "/v1/jwks", mode: "503" });
    h.advance(JWKS_REFRESH_AFTER_MS + 1);
    expect(await h.store.getKey(KID, h.deps)).toBe(key);
    await h.settle();
    expect(await h.store.getKey(KID, h.deps)).toBe(key);
    h.advance(UNKNOWN_KID_REFETCH_INTERVAL_MS);
    await expectStatus(h.store.getKey(randomKid(), h.deps), 401);
    await clearFaults();
  });

  it("through the gateway: a token keeps verifying while /v1/jwks fails", async () => {
    const token = (await signIn("alice")).token;
    expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
    await setFault({ path: "/v1/jwks", mode: "503" });
    expect((await call("/v1/me/sessions/active", { token })).status).toBe(200);
    await clearFaults();
  });

  it("with no key at all and Clerk down, the answer is 503 upstream_unavailable (Clerk's outage, not the caller's fault)", async () => {
    const h = harness();
    await setFault({ path: "/v1/jwks", mode: "503" });
    await expectStatus(h.store.getKey(KID, h.deps), 503);
    await clearFaults();
  });
});

describe("a JWKS with nothing usable is not installed", () => {
  it("keeps the previous keys when Clerk returns garbage", async () => {
    const h = harness();
    const key = await h.store.getKey(KID, h.deps);
    await setFault({ path: "/v1/jwks", mode: "malformed_json" });
    h.advance(UNKNOWN_KID_REFETCH_INTERVAL_MS);
    await expectStatus(h.store.getKey(randomKid(), h.deps), 401);
    expect(await h.store.getKey(KID, h.deps)).toBe(key);
    await clearFaults();
  });
});
