/**
 * Invariants of the scale model (`npm run test:scale`, node --test; a few seconds): it follows the
 * code, it is deterministic for a seed, today's design reproduces what the local bench measured,
 * and the new design's object calls grow with locations and isolates, not with requests.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readCodeConstants } from "./code.mjs";
import { runScenario } from "./model.mjs";
import { DEFAULTS, RECENT_WINDOW_MS, TODAY } from "./params.mjs";
import { localBench, TodayMemory } from "./today.mjs";

/** A small deployment: every part of the model runs, in a fraction of a second. */
const SMALL = {
  users: 1_000_000,
  reqPerS: 10_000,
  locations: 40,
  doHostLocations: 10,
  sampleUsers: 5_000,
  topUsers: 5,
  windowS: 20,
  revocationSamples: 200,
};

describe("the model follows the code", () => {
  test("today's constants are the source's", () => {
    const code = readCodeConstants();
    assert.equal(TODAY.negativeMemoryMs, code.REVOCATION_NEGATIVE_MEMORY_MS);
    assert.equal(TODAY.directoryTimeoutMs, code.DIRECTORY_TIMEOUT_MS);
    assert.equal(TODAY.listMemoryMs, code.SESSION_LIST_MEMORY_MS);
    assert.equal(RECENT_WINDOW_MS, (code.SESSION_TOKEN_LIFETIME_SECONDS + code.CLOCK_SKEW_SECONDS) * 1000);
  });

  test("'not revoked' is believed from the answer's arrival for the negative memory, with no single flight", () => {
    const memory = new TodayMemory(1_000, 2_000);
    assert.equal(memory.revocationHit("s", 0, 10), false, "first request asks");
    assert.equal(memory.revocationHit("s", 5, 10), false, "a request while the lookup is in flight asks too");
    assert.equal(memory.revocationHit("s", 10, 10), true, "answered at 10");
    assert.equal(memory.revocationHit("s", 1_009, 10), true);
    assert.equal(memory.revocationHit("s", 1_016, 10), false, "expired 1 s after the last answer (15)");
  });
});

describe("today's design reproduces the local bench", () => {
  test("181 req/s over 400 tokens: 1.50 store reads per request (1 lookup + 0.5 list reads)", () => {
    const run = localBench({ rate: 181 });
    assert.ok(Math.abs(run.storeReadsPerRequest - 1.5) < 0.02, `${run.storeReadsPerRequest}`);
    assert.ok(Math.abs(run.directoryLookupsPerRequest - 1) < 0.01);
  });

  test("saturated, 2,397 req/s on 32 connections: 0.21 store reads, 0.16 directory lookups per request", () => {
    const run = localBench({ rate: 2_397, connections: 32 });
    assert.ok(Math.abs(run.storeReadsPerRequest - 0.21) < 0.02, `${run.storeReadsPerRequest}`);
    assert.ok(Math.abs(run.directoryLookupsPerRequest - 0.16) < 0.02, `${run.directoryLookupsPerRequest}`);
  });
});

describe("the simulation", () => {
  const a = runScenario({ ...SMALL, seed: 3 });

  test("is deterministic for a seed, and the seed matters", () => {
    const again = runScenario({ ...SMALL, seed: 3 });
    assert.deepEqual(again.recent, a.recent);
    assert.deepEqual(again.today, a.today);
    const other = runScenario({ ...SMALL, seed: 4 });
    assert.notDeepEqual(other.recent.bound, a.recent.bound);
  });

  test("the sampled users send their share of the traffic", () => {
    const expected = SMALL.sampleUsers * (SMALL.reqPerS / SMALL.users) * SMALL.windowS;
    const ratio = a.context.sampledRequests / expected;
    assert.ok(ratio > 0.7 && ratio < 1.3, `sampled ${a.context.sampledRequests} requests, expected ≈ ${expected}`);
  });

  test("new design: at most one object call per refresh, refreshes at most one per isolate per jittered poll", () => {
    const p = a.params;
    const pollsPerS = 1000 / (p.pollMs * (1 - p.pollJitter));
    const bound = a.world.isolateIncarnations * pollsPerS + a.recent.coldStartsPerS;
    assert.ok(a.recent.logObjectCallsPerS <= a.recent.cacheReadsPerS);
    assert.ok(a.recent.cacheReadsPerS <= bound, `${a.recent.cacheReadsPerS} refreshes/s > ${bound}`);
  });

  test("new design: object calls grow with locations, not requests", () => {
    // One isolate per location: twice the requests must not mean more log calls than locations × polls.
    const oneIsolate = { ...SMALL, seed: 5, reqPerIsolate: 1e9 };
    const base = runScenario(oneIsolate);
    const double = runScenario({ ...oneIsolate, reqPerS: 2 * SMALL.reqPerS, users: 2 * SMALL.users });
    const cap = SMALL.locations * (1000 / (DEFAULTS.pollMs * (1 - DEFAULTS.pollJitter)));
    for (const r of [base, double])
      assert.ok(r.recent.logObjectCallsPerS <= cap, `${r.recent.logObjectCallsPerS} > ${cap}`);
    assert.ok(double.recent.logObjectCallsPerS < 1.2 * base.recent.logObjectCallsPerS);
    assert.ok(double.recent.objectCallsPerRequest < base.recent.objectCallsPerRequest);
  });

  test("new design: the bound never passes maxStaleMs plus the append's way to the replica", () => {
    // The farthest replica is at most ~350 ms away (× the per-pair spread, clipped below at 2 ms).
    assert.ok(a.recent.bound.max <= a.params.maxStaleMs + 600, `${a.recent.bound.max}`);
    assert.ok(a.recent.bound.p50 > 0);
  });

  test("today's design: a revoked session is refused within 1 s plus the round trips", () => {
    assert.ok(a.today.bound.max <= TODAY.negativeMemoryMs + 1_000, `${a.today.bound.max}`);
    assert.ok(a.today.roundTripsPerRequest > 0.2 && a.today.roundTripsPerRequest <= 1);
  });

  test("goals are judged on the figures they name", () => {
    assert.equal(a.goals.roundTripsPerRequest.value, a.recent.roundTripsPerRequest);
    assert.equal(a.goals.busiestObjectPerS.value, a.recent.busiestObject.peakPerS);
    assert.equal(a.goals.boundP99Ms.value, a.recent.bound.p99);
  });
});
