/**
 * One scenario of the scale model: the world, the new design's isolates (which also decide
 * every isolate's life), today's design user by user in the same isolates, and the figures
 * both are read by. Deterministic for a seed: every draw comes from a named seeded stream.
 */
import { DEFAULTS, GOALS, RECENT_WINDOW_MS, TODAY } from "./params.mjs";
import { recentBound, replicaLoad, revocationStream, sampleRevocations, simulateRecent } from "./recent.mjs";
import { simulateToday } from "./today.mjs";
import { buildWorld } from "./world.mjs";

export function runScenario(overrides = {}) {
  const p = { ...DEFAULTS, ...overrides };
  const world = buildWorld(p);
  const stream = revocationStream(p);
  const sim = simulateRecent(world, p);
  const revocations = sampleRevocations(world, p, p.revocationSamples);
  const bound = recentBound(world, p, revocations);
  const replicas = replicaLoad(world, sim, stream);
  const today = simulateToday(world, p, { revocations });

  // Long-lived minted tokens keep today's check (the user's object, then Clerk's status).
  const longLived = {
    objectCalls: p.longLivedShare * today.perRequest.directoryLookups,
    clerkCalls: p.longLivedShare * today.perRequest.statusMisses,
  };
  const busiestReplica = replicas.reduce((a, b) => (b.total.peak > a.total.peak ? b : a));
  const incarnations = world.slots.reduce((n, s) => n + s.incarnations.length, 0);
  const setBytes = stream.peakSetEntries * p.entryBytes;
  const fullWire = stream.peakSetEntries * p.wireBytesPerEntry;

  const recent = {
    roundTripsPerRequest: sim.perRequest.waited + longLived.objectCalls,
    objectCallsPerRequest: sim.perRequest.objectCalls + longLived.objectCalls,
    cacheReadsPerRequest: sim.perRequest.cacheReads,
    allIoPerRequest: sim.perRequest.cacheReads + sim.perRequest.objectCalls + longLived.objectCalls,
    waitedRequestsPerRequest: sim.perRequest.waited,
    waitMs: sim.waitMs,
    longLived,
    cacheHitRatio: sim.cacheHitRatio,
    objectCallsPerS: sim.objectCallsPerS + longLived.objectCalls * p.reqPerS,
    logObjectCallsPerS: sim.objectCallsPerS,
    cacheReadsPerS: sim.cacheReadsPerS,
    objectCallsPerMissedEntry: sim.objectCallsPerMissedEntry,
    coldStartsPerS: sim.counts.coldStarts / p.windowS,
    busiestObject: {
      name: `log replica ${busiestReplica.region}`,
      peakPerS: busiestReplica.total.peak,
      meanPerS: busiestReplica.total.mean,
      readsPeakPerS: busiestReplica.reads.peak,
      locations: busiestReplica.locations,
    },
    replicas,
    bound: { ...bound.perRevocation, perIsolate: bound.perIsolate },
    memory: {
      peakEntries: stream.peakSetEntries,
      bytes: setBytes,
      shareOfIsolate: setBytes / p.isolateMemoryBytes,
      fullSetWireBytes: fullWire,
      // Bytes an isolate takes in per second: the whole set on each refresh, or only what is new.
      fullRefreshBytesPerS: fullWire * (1000 / p.pollMs),
      deltaRefreshBytesPerS: p.revocationsPerS * p.wireBytesPerEntry,
    },
  };
  const todayFigures = {
    roundTripsPerRequest: today.perRequest.directoryLookups,
    objectCallsPerRequest: today.perRequest.directoryLookups,
    objectCallsPerS: today.objectCallsPerS,
    lookupLatencyMs: today.lookupLatencyMs,
    lookupsOverDeadline: today.lookupsOverDeadline,
    busiestObject: {
      name: "a user's SessionDirectory",
      peakPerS: today.busiestObject.peak,
      meanPerS: today.busiestObject.mean,
    },
    bound: { ...today.bound.perRevocation, revocations: today.bound.revocations },
    memory: {
      peakEntries: today.memory.entries,
      bytes: today.memory.bytes,
      shareOfIsolate: today.memory.bytes / p.isolateMemoryBytes,
    },
    listReadsPerRequest: today.perRequest.listReads,
  };
  const goals = {
    roundTripsPerRequest: { value: recent.roundTripsPerRequest, goal: GOALS.roundTripsPerRequest, op: "<=" },
    busiestObjectPerS: {
      value: recent.busiestObject.peakPerS,
      goal: GOALS.busiestObjectShareOfLimit * p.objectSoftLimitPerS,
      op: "<=",
    },
    boundP99Ms: { value: recent.bound.p99, goal: GOALS.boundP99Ms, op: "<=" },
  };
  for (const g of Object.values(goals)) g.met = g.value <= g.goal;

  return {
    params: p,
    world: {
      locations: world.locations.length,
      isolateSlots: world.slots.length,
      isolatesPerLocation: {
        largest: world.locations[0].slots.length,
        median: [...world.locations].map((l) => l.slots.length).sort((a, b) => a - b)[world.locations.length >> 1],
        smallest: Math.min(...world.locations.map((l) => l.slots.length)),
      },
      isolateIncarnations: incarnations,
      objectHosts: world.locations.filter((l) => l.hostsObjects).length,
      replicas: world.replicas.map((r) => r.region),
      largestLocationReqPerS: world.locations[0].reqPerS,
      recentWindowMs: RECENT_WINDOW_MS,
    },
    today: todayFigures,
    recent,
    context: {
      tokenVerificationsPerRequest: today.perRequest.tokenVerifications,
      sampledUsers: today.sampledUsers,
      sampledRequests: today.requests,
      meanUserReqPerS: today.meanUserReqPerS,
      codeConstants: TODAY,
    },
    goals,
  };
}
