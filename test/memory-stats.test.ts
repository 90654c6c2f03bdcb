import { describe, expect, it } from "vitest";
import { memoryLookups, memoryLookupTotals } from "../src/core/memory-stats";
import { settled } from "../src/storage/kv-writer";
import { freshToken, SEED } from "./support/emulator";
import { captureConsole, useFreshWorld } from "./support/fresh-world";
import { call } from "./support/gateway";

/**
 * The hit and miss counts of the hot path's isolate memory, which the request log line
 * carries (totals since the isolate started) and `npm run bench` turns into a hit ratio.
 */
const ACTIVE = "/v1/me/sessions/active";
useFreshWorld();
const logged = captureConsole();

const delta = (before: ReturnType<typeof memoryLookups>, after: ReturnType<typeof memoryLookups>) =>
  Object.fromEntries(
    (Object.keys(after) as (keyof typeof after)[]).map((layer) => [
      layer,
      { hits: after[layer].hits - before[layer].hits, misses: after[layer].misses - before[layer].misses },
    ]),
  );

/** What a step did to the three memory layers, each as [hits, misses]: lists, revocations, tokens. */
function layers(lists: [number, number], revocations: [number, number], tokens: [number, number]) {
  const pair = ([hits, misses]: [number, number]) => ({ hits, misses });
  return { lists: pair(lists), revocations: pair(revocations), tokens: pair(tokens) };
}

describe("isolate memory counters", () => {
  it("count a first read as misses of all three layers and a repeat as hits of all three", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    const start = memoryLookups();
    expect((await call(ACTIVE, { token })).status).toBe(200);
    await settled();
    const afterFirst = memoryLookups();
    expect(delta(start, afterFirst)).toEqual(layers([0, 1], [0, 1], [0, 1]));
    // The list Clerk returned went to KV, and its memory copy is dropped once the write landed: one KV read.
    expect((await call(ACTIVE, { token })).status).toBe(200);
    const afterSecond = memoryLookups();
    expect(delta(afterFirst, afterSecond)).toEqual(layers([0, 1], [1, 0], [1, 0]));
    expect((await call(ACTIVE, { token })).status).toBe(200);
    expect(delta(afterSecond, memoryLookups())).toEqual(layers([1, 0], [1, 0], [1, 0]));
  });

  it("are totals on every request log line, never anything about the request's token", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    for (let i = 0; i < 3; i++) {
      await call(ACTIVE, { token });
      await settled();
    }
    const lines = logged.json().filter((line) => line.msg === "request");
    expect(lines).toHaveLength(3);
    type Totals = { hits: number; misses: number; storeReads: number; directoryReads: number };
    const [first, second, third] = lines.map((line) => ({
      hits: Number(line.memory_hits),
      misses: Number(line.memory_misses),
      storeReads: Number(line.memory_store_reads),
      directoryReads: Number(line.memory_directory_reads),
    })) as [Totals, Totals, Totals];
    // The second request read its list from KV (the first one's copy was dropped when its write landed).
    expect(second.storeReads - first.storeReads).toBe(1);
    // The third request found all three layers in memory.
    expect(third.hits - second.hits).toBe(3);
    expect(third.misses - second.misses).toBe(0);
    expect(third.storeReads - second.storeReads).toBe(0);
    // The first request asked the user's session directory object (bound here); "not revoked" then came from memory.
    expect(first.directoryReads).toBeGreaterThan(0);
    expect(third.directoryReads - first.directoryReads).toBe(0);
    expect(memoryLookupTotals()).toEqual({
      memory_hits: third.hits,
      memory_misses: third.misses,
      memory_store_reads: third.storeReads,
      memory_directory_reads: third.directoryReads,
    });
    for (const raw of logged.lines) expect(raw).not.toContain(token);
  });
});
