/**
 * In workerd, a request's I/O belongs to that request: when it is cancelled (its client went
 * away), its pending fetches and KV calls are cancelled with it, and a promise that another
 * request awaits on them never settles. workerd then cancels the waiting request as hung
 * ("… your Worker's code had hung and would never generate a response"), a 500. Work shared
 * between requests (single flight, serialised updates, paced KV writes, the JWKS fetch) must
 * therefore never be a correctness dependency: these tests cancel the request that started the
 * shared work while another one waits on it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { JwksKeyStore } from "../../src/auth/jwks";
import { ClerkClient } from "../../src/clerk/client";
import { loadConfig } from "../../src/config/settings";
import { queuedValue, writeCoalesced } from "../../src/storage/kv-writer";
import { clearFaults, emulatorKid, setFault } from "../support/emulator";
import { coldIsolate, useFreshWorld } from "../support/fresh-world";
import { call, SERVICE_KEY } from "../support/gateway";
import { carolWithColdList, listCalls } from "./support";

useFreshWorld();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request that never waits forever: the test fails with "hung" instead of timing out. */
async function within(response: Promise<Response>, ms: number): Promise<Response | "hung"> {
  return Promise.race([response, sleep(ms).then(() => "hung" as const)]);
}

describe("a request whose client went away never strands the requests sharing its work", () => {
  it("a session list load started by a cancelled request: the request waiting on it still answers", async () => {
    const { carol, reader } = await carolWithColdList();
    coldIsolate();
    await setFault({ method: "GET", path: "/v1/sessions", mode: "slow", delay_ms: 600, times: 1 });
    const before = await listCalls(carol);

    const client = new AbortController();
    const first = call("/v1/me/sessions/active", { token: reader.token, signal: client.signal }).catch(
      (error: unknown) => error,
    );
    // The first request has started the (slow) load when the second one joins it …
    await sleep(150);
    const second = call(`/v1/sessions?user_id=${carol}&status=active`, { serviceKey: SERVICE_KEY });
    await sleep(50);
    // … and then the first one's client goes away.
    client.abort();
    await first;

    const answer = await within(second, 5_000);
    expect(answer).not.toBe("hung");
    const response = answer as Response;
    expect(response.status).toBe(200);
    const ids = ((await response.json()) as Array<{ id: string }>).map((s) => s.id);
    expect(ids).toContain(reader.session_id);
    // Single flight is kept while it works: at most the cancelled load and the waiter's own.
    expect(await listCalls(carol)).toBeLessThanOrEqual(before + 2);
    await clearFaults();
  });
});

describe("paced KV writes never wait forever on a write another request started", () => {
  it("a write stuck with its (gone) request: the next value for the key is still written", async () => {
    const key = "test:cross-request:stuck-write";
    const puts: string[] = [];
    // The first put never settles, as a put of a cancelled request; later ones land.
    const kv = {
      put: (_key: string, value: string) => {
        puts.push(value);
        return puts.length === 1 ? new Promise<void>(() => undefined) : Promise.resolve();
      },
      delete: () => Promise.resolve(),
    } as unknown as KVNamespace;

    void writeCoalesced(kv, key, "stuck", 60);
    await sleep(50);
    const later = writeCoalesced(kv, key, "second", 60);
    const joined = writeCoalesced(kv, key, "third", 60);
    expect(queuedValue(key)).toBe("third");
    const outcome = await Promise.race([
      Promise.all([later, joined]).then(() => "written"),
      sleep(8_000).then(() => "hung"),
    ]);
    expect(outcome).toBe("written");
    // One write of the latest value after the stuck one: the pacing and coalescing still hold.
    expect(puts).toEqual(["stuck", "third"]);
    // The stuck write would keep `settled()` of the next fresh world waiting: forget it.
    coldIsolate();
  });
});

describe("the JWKS fetch another request started never strands a request that needs a key", () => {
  it("the first fetch is stuck with its (gone) request: a request joining it fetches after a bounded wait", async () => {
    const config = loadConfig(env);
    let fetches = 0;
    const clerk = new ClerkClient(config, {
      guard: { unguarded: "test" },
      // The first call never settles, as a fetch of a cancelled request (its own timeout cancelled with it).
      fetch: (input, init) => (++fetches === 1 ? new Promise<Response>(() => undefined) : fetch(input, init)),
    });
    const store = new JwksKeyStore(config.apiUrl);
    const deps = { kv: env.SESSION_CACHE, clerk: () => clerk, waitUntil: () => undefined };

    const kid = await emulatorKid();
    void store.getKey(kid, deps);
    await sleep(50);
    const outcome = await Promise.race([store.getKey(kid, deps).then(() => "key"), sleep(8_000).then(() => "hung")]);
    expect(outcome).toBe("key");
    expect(fetches).toBe(2);
  });
});
