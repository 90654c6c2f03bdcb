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
    // The revocation check answers from the recent set (its first read is a log read, not a layer miss).
    expect(delta(start, afterFirst)).toEqual(layers([0, 1], [1, 0], [0, 1]));
    // The list Clerk returned went to KV, and this isolate keeps what it wrote once the write landed: no KV read.
    expect((await call(ACTIVE, { token })).status).toBe(200);
    const afterSecond = memoryLookups();
    expect(delta(afterFirst, afterSecond)).toEqual(layers([1, 0], [1, 0], [1, 0]));
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
    type Totals = { hits: number; misses: number; storeReads: number; directoryReads: number; logReads: number };
    const [first, second, third] = lines.map((line) => ({
      hits: Number(line.memory_hits),
      misses: Number(line.memory_misses),
      storeReads: Number(line.memory_store_reads),
      directoryReads: Number(line.memory_directory_reads),
      logReads: Number(line.memory_log_reads),
    })) as [Totals, Totals, Totals];
    // The first request read the recent set (a log read, counted as a store read) and its list.
    expect(first.logReads).toBeGreaterThan(0);
    // The second and third found all three layers in memory (the list this isolate wrote is kept);
    // at most one background refresh of the recent set may have started meanwhile.
    expect(third.hits - first.hits).toBe(6);
    expect(third.misses - first.misses).toBe(0);
    expect(third.storeReads - first.storeReads).toBe(third.logReads - first.logReads);
    expect(third.logReads - first.logReads).toBeLessThanOrEqual(1);
    // Clerk's 60 s tokens never asked the user's session directory object: the recent set answered.
    expect(third.directoryReads - first.directoryReads).toBe(0);
    expect(second.directoryReads).toBe(first.directoryReads);
    expect(memoryLookupTotals()).toEqual({
      memory_hits: third.hits,
      memory_misses: third.misses,
      memory_store_reads: third.storeReads,
      memory_directory_reads: third.directoryReads,
      memory_log_reads: third.logReads,
    });
    for (const raw of logged.lines) expect(raw).not.toContain(token);
  });
});
