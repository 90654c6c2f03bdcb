/**
 * What `npm run bench:scale` prints and records: the two designs side by side for the default
 * scenario, the lines to read against the goals, the calibration against the local bench, and
 * the sweep. Every figure is deterministic for a seed; only the date, commit and runtime vary.
 */
import { GOALS } from "./params.mjs";

const int = (v) => Math.round(v).toLocaleString("en-US");
const fixed = (v, digits) => (v === null || v === undefined ? "n/a" : v.toFixed(digits));
const perReq = (v) => (v >= 0.1 ? v.toFixed(3) : v.toFixed(4));
const seconds = (ms) => (ms === null ? "n/a" : (ms / 1000).toFixed(2));
const bytes = (b) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MiB` : `${Math.round(b / 1024)} KiB`);
const pct = (v) => `${(v * 100).toFixed(v < 0.01 ? 2 : 1)}%`;
const met = (ok) => (ok ? "met" : "missed");

export function headerLines(r) {
  const p = r.params;
  const w = r.world;
  return [
    `scale model, seed ${p.seed}: ${int(p.users)} users, ${int(p.reqPerS)} req/s, ${int(p.locations)} locations, ` +
      `${int(p.revocationsPerS)} revocations/s`,
    `  isolates: ${int(w.isolateSlots)} slots (${w.isolatesPerLocation.largest} in the largest location, median ` +
      `${w.isolatesPerLocation.median}, smallest ${w.isolatesPerLocation.smallest}), ${int(w.isolateIncarnations)} isolates lived; ` +
      `${w.objectHosts} locations host objects; log replicas in ${w.replicas.join(", ")}`,
    `  simulated: ${p.warmupS} s warm-up + ${p.windowS} s measured at full event rates; ${int(r.context.sampledUsers)} users ` +
      `sampled one by one (${int(r.context.sampledRequests)} requests in the window) and the ${p.topUsers} heaviest; ` +
      `every isolate; ${int(p.revocationSamples)} revocations measured`,
  ];
}

export function calibrationLines(calibration) {
  const [fixedRate, saturated] = calibration;
  return [
    `calibration, today's design on the local bench's runs (one isolate, 400 tokens): ${fixedRate.rate} req/s open loop → ` +
      `${fixedRate.storeReadsPerRequest.toFixed(2)} store reads per request (recorded 1.50); ${int(saturated.rate)} req/s on ` +
      `${saturated.connections} connections → ${saturated.storeReadsPerRequest.toFixed(2)} (recorded 0.21), directory lookups ` +
      `${saturated.directoryLookupsPerRequest.toFixed(2)} (recorded 0.16)`,
  ];
}

/** The side-by-side table of the default scenario. */
export function comparisonRows(r) {
  const t = r.today;
  const n = r.recent;
  const limit = r.params.objectSoftLimitPerS;
  return [
    ["figure", "today: per-user object", "new: recent revocations per location", "goal (new)"],
    [
      "store round trips a request waits for, per request",
      perReq(t.roundTripsPerRequest),
      perReq(n.roundTripsPerRequest),
      `≤ ${GOALS.roundTripsPerRequest}: ${met(r.goals.roundTripsPerRequest.met)}`,
    ],
    [
      "object calls per request (background ones included)",
      perReq(t.objectCallsPerRequest),
      perReq(n.objectCallsPerRequest),
      "",
    ],
    ["Cache API reads per request (background ones included)", "0", perReq(n.cacheReadsPerRequest), ""],
    ["object calls per second, all objects", int(t.objectCallsPerS), int(n.objectCallsPerS), ""],
    [
      "busiest object, calls in its busiest second",
      `${int(t.busiestObject.peakPerS)} (${t.busiestObject.name})`,
      `${int(n.busiestObject.peakPerS)} (${n.busiestObject.name}, ${n.busiestObject.locations} locations, reads + appends)`,
      `≤ ${int(GOALS.busiestObjectShareOfLimit * limit)} (half of ${int(limit)}): ${met(r.goals.busiestObjectPerS.met)}`,
    ],
    [
      "revocation bound p50 / p99 / max (s)",
      `${seconds(t.bound.p50)} / ${seconds(t.bound.p99)} / ${seconds(t.bound.max)}`,
      `${seconds(n.bound.p50)} / ${seconds(n.bound.p99)} / ${seconds(n.bound.max)}`,
      `p99 ≤ ${GOALS.boundP99Ms / 1000} s: ${met(r.goals.boundP99Ms.met)}`,
    ],
    [
      "isolate memory for revocation state",
      `≤ ${bytes(t.memory.bytes)} ("not revoked", ${int(t.memory.peakEntries)} entries)`,
      `${bytes(n.memory.bytes)} (${int(n.memory.peakEntries)} entries, ${pct(n.memory.shareOfIsolate)} of 128 MiB)`,
      "",
    ],
    [
      "a request that waits: p50 / p99 (ms)",
      `${fixed(t.lookupLatencyMs.p50, 0)} / ${fixed(t.lookupLatencyMs.p99, 0)} (the lookup)`,
      `${fixed(n.waitMs.p50, 0)} / ${fixed(n.waitMs.p99, 0)} (a refresh)`,
      "",
    ],
  ];
}

export function goalLines(r) {
  const n = r.recent;
  const t = r.today;
  const g = r.goals;
  const limit = r.params.objectSoftLimitPerS;
  return [
    `new design, store round trips per request: ${perReq(n.roundTripsPerRequest)}  (goal ≤ ${GOALS.roundTripsPerRequest}: ${met(g.roundTripsPerRequest.met)})`,
    `new design, busiest object: ${int(n.busiestObject.peakPerS)} req/s = ${pct(n.busiestObject.peakPerS / limit)} of the ${int(limit)} req/s soft limit  (goal ≤ ${pct(GOALS.busiestObjectShareOfLimit)}: ${met(g.busiestObjectPerS.met)})`,
    `new design, revocation bound p99: ${seconds(n.bound.p99)} s  (goal ≤ ${GOALS.boundP99Ms / 1000} s: ${met(g.boundP99Ms.met)})`,
    `today's design beside it: ${perReq(t.roundTripsPerRequest)} store round trips per request, busiest object ${int(t.busiestObject.peakPerS)} req/s, revocation bound p99 ${seconds(t.bound.p99)} s`,
  ];
}

export function detailLines(r) {
  const n = r.recent;
  const t = r.today;
  const p = r.params;
  const misses = n.objectCallsPerMissedEntry;
  return [
    `new design in detail: refreshes hit the location's cache ${pct(n.cacheHitRatio)}; object calls per missed ` +
      `cache entry p50 ${misses.p50}, p99 ${misses.p99}, max ${misses.max} (isolates of one location missing it together)`,
    `  log replica calls ${int(n.logObjectCallsPerS)}/s, Cache API reads ${int(n.cacheReadsPerS)}/s, cold isolates ` +
      `${fixed(n.coldStartsPerS, 1)}/s; bound per isolate p50 ${seconds(n.bound.perIsolate.p50)} s, p99 ${seconds(n.bound.perIsolate.p99)} s`,
    `  long-lived tokens (${pct(p.longLivedShare)} of requests): ${perReq(n.longLived.objectCalls)} object calls and ` +
      `${perReq(n.longLived.clerkCalls)} Clerk calls per request`,
    `  the whole set on the wire: ${bytes(n.memory.fullSetWireBytes)}; an isolate takes in ${bytes(n.memory.fullRefreshBytesPerS)}/s ` +
      `refreshing the whole set, ${bytes(n.memory.deltaRefreshBytesPerS)}/s with deltas`,
    `today's design in detail: ${int(t.objectCallsPerS)} object calls/s over millions of objects; lookups over the ` +
      `${r.context.codeConstants.directoryTimeoutMs} ms deadline ${pct(t.lookupsOverDeadline)}; RSA verifications per request ` +
      `${r.context.tokenVerificationsPerRequest.toFixed(3)} (the same in both designs)`,
  ];
}

/** The sweep: one parameter changed from the default per row. */
export function sweepRows(sweep) {
  const head = [
    "scenario",
    "today round trips/req",
    "new round trips/req",
    "new object calls/req",
    "new busiest object req/s",
    "new bound p99 / max (s)",
    "new set memory",
    "new goals",
  ];
  const rows = sweep.map(({ label, result: r }) => {
    const n = r.recent;
    const goals = Object.values(r.goals).every((g) => g.met)
      ? "all met"
      : `missed: ${Object.entries(r.goals)
          .filter(([, g]) => !g.met)
          .map(
            ([k]) =>
              ({ roundTripsPerRequest: "round trips", busiestObjectPerS: "busiest object", boundP99Ms: "bound" })[k],
          )
          .join(", ")}`;
    return [
      label,
      perReq(r.today.roundTripsPerRequest),
      perReq(n.roundTripsPerRequest),
      perReq(n.objectCallsPerRequest),
      `${int(n.busiestObject.peakPerS)} (${pct(n.busiestObject.peakPerS / r.params.objectSoftLimitPerS)})`,
      `${seconds(n.bound.p99)} / ${seconds(n.bound.max)}`,
      bytes(n.memory.bytes),
      goals,
    ];
  });
  return [head, ...rows];
}

/** A markdown or plain table; the first column left-aligned, the others right. */
export function table(rows, { markdown = false } = {}) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(" | ")} |`;
  const rule = markdown
    ? `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`
    : `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)];
}
