/**
 * What `npm run bench` measures: the scenarios, in the order of a round, and how one is
 * run. Every scenario runs once per round, rounds interleaved, so a burst of other load
 * on the machine hits all of them alike; the report takes medians over the rounds.
 */
import { join } from "node:path";
import { ROOT } from "./bundle-size.mjs";
import {
  CONNECTIONS,
  DURATION,
  HERD_REQUESTS,
  HERD_USERS,
  ONLY,
  PROFILE,
  RATE,
  RATE_FIXED,
  RATE_MIN,
  RATE_SHARE,
  ROUNDS,
  SESSIONS_PER_USER,
  USERS,
  WARMUP,
} from "./config.mjs";
import {
  cannon,
  emulator,
  memoryCounters,
  openLoop,
  pool,
  probe,
  SERVICE_KEY,
  startProfile,
  url,
  workerdCpuMs,
} from "./runtime.mjs";

export const OUT_DIR = join(ROOT, "bench", "out");
const ACTIVE = "/v1/me/sessions/active";

/**
 * The scenarios of one round. `worker` names the Worker measured (profiles); `prime` asks
 * every token once before the run (a warm cache); `timing` reads the gateway's
 * Server-Timing after it; `memory` reads the gateway's isolate-memory counters around it.
 */
export function scenarioSpecs({ oursUnavailable }) {
  const ours = (spec) => (oursUnavailable ? { ...spec, unavailable: oursUnavailable } : spec);
  const saturated = [
    // Floors: what a Worker costs here before doing any of the gateway's work.
    { name: "floor", label: "floor: constant Worker", worker: "floor", base: url("floor"), path: "/constant" },
    {
      name: "floor-kv",
      label: "floor: one KV read per request",
      worker: "floor",
      base: url("floor"),
      path: "/kv",
      auth: true,
    },
    {
      name: "floor-do",
      label: "floor: one Durable Object call per request",
      worker: "floor",
      base: url("floor"),
      path: "/do",
      auth: true,
    },
    {
      name: "healthz",
      label: "gateway GET /healthz",
      worker: "gateway",
      base: url("gateway"),
      path: "/healthz",
      timing: true,
    },
    {
      name: "cached",
      label: `${ACTIVE}, warm cache`,
      worker: "gateway",
      base: url("gateway"),
      path: ACTIVE,
      auth: true,
      prime: true,
      timing: true,
      memory: true,
    },
    {
      // The same warm read without SESSION_DIRECTORY: the check reads KV markers instead of the object.
      name: "cached-kv-only",
      label: "same, KV-only (no SESSION_DIRECTORY)",
      worker: "gateway-kv-only",
      base: url("kvOnly"),
      path: ACTIVE,
      auth: true,
      prime: true,
      memory: true,
    },
    {
      name: "nocache",
      label: "same, cache disabled (TTL 0)",
      worker: "gateway-nocache",
      base: url("nocache"),
      path: ACTIVE,
      auth: true,
      timing: true,
    },
    {
      name: "baseline",
      label: "baseline: @clerk/backend per request",
      worker: "baseline",
      base: url("baseline"),
      path: ACTIVE,
      auth: true,
    },
    {
      name: "mw-clerk",
      label: "app route, @clerk/hono clerkMiddleware",
      worker: "app-clerk-hono",
      base: url("appClerkHono"),
      path: "/api/me",
      auth: true,
    },
    ours({
      name: "mw-ours",
      label: "app route, our clerkMiddleware",
      worker: "app-ours",
      base: url("appOurs"),
      path: "/api/me",
      auth: true,
      // The middleware writes no request line: its counters are read from the bench app's own route.
      memory: true,
      memoryPath: "/__bench/memory",
    }),
  ];
  // The same routes at a fixed rate, after the saturated runs of the round (which set that rate).
  const fixedRate = [
    ["cached", "warm cache"],
    ["floor-kv", "floor: one KV read"],
    ["baseline", "baseline"],
    ["mw-clerk", "app route, @clerk/hono"],
    ["mw-ours", "app route, our middleware"],
  ].map(([name, short]) => {
    const { timing: _timing, ...spec } = saturated.find((s) => s.name === name);
    return { ...spec, name: `${name}-rate`, label: `${short} at fixed rate`, rate: true };
  });
  return [...saturated, ...fixedRate].filter((spec) => !ONLY || ONLY.has(spec.name));
}

/**
 * The rate of a round's fixed-rate runs: BENCH_RATE when set, else RATE_SHARE of the slowest
 * saturated throughput among the routes compared at that rate in this round (never above
 * RATE_CAP): below saturation for every one of them, however busy the machine is.
 */
function roundRate(rowsThisRound) {
  if (RATE_FIXED) return RATE;
  const measured = ["cached", "floor-kv", "baseline", "mw-clerk", "mw-ours"]
    .map((name) => rowsThisRound[name]?.rps)
    .filter((rps) => rps > 0);
  if (measured.length === 0) return RATE;
  return Math.max(RATE_MIN, Math.min(RATE, Math.round(Math.min(...measured) * RATE_SHARE)));
}

/** Waits (at most 15 s) until workerd is idle: under 10 % of a core over 300 ms. */
async function settle() {
  for (let waited = 0; waited < 15_000; waited += 300) {
    const before = workerdCpuMs();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = workerdCpuMs();
    if (before === null || after === null || after - before < 30) return;
  }
}

/** One request; true when it answered 200. */
async function attempt(target, token) {
  try {
    const res = await fetch(target, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

const requestsFor = (path, tokens) =>
  tokens.map((token) => ({ method: "GET", path, headers: { authorization: `Bearer ${token}` } }));

/** Serial requests after a run: the gateway's own Server-Timing (verify, cache, upstream, total), averaged. */
async function serverTiming(target, tokens, n = 50) {
  const sums = {};
  let count = 0;
  for (let i = 0; i < n; i++) {
    const token = tokens?.[(i * 7) % tokens.length];
    const res = await fetch(target, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    await res.arrayBuffer();
    const header = res.headers.get("server-timing");
    if (!header) continue;
    count++;
    for (const part of header.split(",")) {
      const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
      if (m) sums[m[1]] = (sums[m[1]] ?? 0) + Number(m[2]);
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Number((v / Math.max(count, 1)).toFixed(2))]));
}

/** The gateway's isolate-memory counters now: one probe, then its log line (logs arrive asynchronously). */
async function readMemoryCounters(spec, token) {
  if (spec.memoryPath) {
    const { body } = await probe(`${spec.base}${spec.memoryPath}`);
    const line = JSON.parse(body);
    return {
      hits: line.memory_hits,
      misses: line.memory_misses,
      storeReads: line.memory_store_reads,
      directoryReads: line.memory_directory_reads ?? null,
      logReads: line.memory_log_reads ?? null,
    };
  }
  await probe(`${spec.base}${spec.path}`, token);
  await new Promise((resolve) => setTimeout(resolve, 150));
  return memoryCounters();
}

function summarise(name, label, r, upstream) {
  const total = r.requests.total;
  return {
    name,
    label,
    // Answers per second over the measured run (autocannon's per-second average skews on short runs).
    rps: total / Math.max(r.duration, 0.001),
    requests: total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    upstreamCalls: upstream,
    upstreamPerRequest: total > 0 ? upstream / total : 0,
    durationS: r.duration,
  };
}

/** One measured run of a scenario: warm-up, then DURATION s; upstream calls and CPU counted over the measured part only. */
async function measureOnce(spec, tokens) {
  const { base, path } = spec;
  const target = `${base}${path}`;
  const requests = tokens ? requestsFor(path, tokens) : undefined;
  await probe(target, tokens?.[0]);
  // Priming asks every token once; a failure there is counted (and its log shown), not fatal.
  const primeFailures =
    spec.prime && tokens ? (await pool(tokens, 16, (t) => attempt(target, t))).filter((ok) => !ok).length : 0;
  // A prime of stale lists refills them: their KV writes (waitUntil) must land before anything is measured.
  if (spec.prime) await settle();
  const extra = requests ? { requests } : {};
  // Saturated runs: autocannon, CONNECTIONS closed loops. Fixed-rate runs: an open loop at spec.rate.
  const load = (duration) =>
    spec.rate
      ? openLoop({ url: target, rate: spec.rate, duration, ...extra })
      : cannon({ url: target, duration, ...extra });
  if (WARMUP > 0) await load(WARMUP);
  await emulator.clearCalls();
  const memoryBefore = spec.memory ? await readMemoryCounters(spec, tokens?.[0]) : null;
  const profiler = PROFILE === spec.name ? await startProfile(spec.worker) : null;
  const cpuBefore = workerdCpuMs();
  const r = await load(DURATION);
  const cpuAfter = workerdCpuMs();
  if (profiler) await profiler.stop(join(OUT_DIR, `${spec.name}.cpuprofile`));
  const row = summarise(spec.name, spec.label, r, await emulator.calls());
  if (primeFailures > 0) row.primeFailures = primeFailures;
  // workerd CPU per request (µs): the measured Worker, plus the emulator's share when it calls Clerk, plus KV and objects.
  row.workerdCpuUsPerRequest =
    cpuBefore === null || cpuAfter === null || row.requests === 0
      ? null
      : ((cpuAfter - cpuBefore) * 1000) / row.requests;
  if (spec.memory) {
    const after = await readMemoryCounters(spec, tokens?.[0]);
    row.memory =
      memoryBefore && after
        ? {
            hits: after.hits - memoryBefore.hits,
            misses: after.misses - memoryBefore.misses,
            storeReads: after.storeReads - memoryBefore.storeReads,
            directoryReads:
              after.directoryReads === null || memoryBefore.directoryReads === null
                ? null
                : after.directoryReads - memoryBefore.directoryReads,
            logReads:
              after.logReads === null || memoryBefore.logReads === null ? null : after.logReads - memoryBefore.logReads,
          }
        : null;
  }
  if (spec.timing) row.serverTimingMs = await serverTiming(target, tokens);
  return row;
}

/** Signs in the bench's users: USERS × SESSIONS_PER_USER sessions. */
export async function setUp() {
  const userIds = await emulator.users("bench", USERS);
  const sessionIds = (
    await pool(
      userIds.flatMap((id) => Array.from({ length: SESSIONS_PER_USER }, () => id)),
      8,
      (id) => emulator.signIn(id),
    )
  ).map((s) => s.session_id);
  // One read of every user's list through the gateway, so the KV floor finds the gateway's own keys and values.
  const tokens = await emulator.tokens(sessionIds);
  const primed = await pool(tokens, 16, (t) => attempt(url("gateway", ACTIVE), t));
  const failed = primed.filter((ok) => !ok).length;
  if (failed > 0)
    console.error(`  setup: ${failed} of ${tokens.length} first reads through the gateway did not answer 200`);
  // The list writes are waitUntil work: wait until the floor sees them (seconds at most, even on a busy machine).
  for (let waited = 0; ; waited += 100) {
    const { body } = await probe(url("floor", "/kv"), tokens.at(-1));
    if (body !== "null") break;
    if (waited > 15_000)
      throw new Error("the KV floor found no session list: the gateway's keys are not where it reads");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { sessionIds };
}

/**
 * ROUNDS rounds of every scenario in turn. Returns each scenario's runs, or the reason it
 * cannot run on this build (reported as such, never measured).
 */
export async function runRounds(specs, { sessionIds }) {
  const runs = Object.fromEntries(specs.map((spec) => [spec.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}/${ROUNDS}:`);
    const thisRound = {};
    let rate = null;
    for (const spec of specs) {
      if (spec.unavailable) {
        if (round === 1) console.log(`  ${spec.label.padEnd(44)} ${spec.unavailable}`);
        continue;
      }
      if (spec.rate && rate === null) {
        rate = roundRate(thisRound);
        console.log(`  fixed rate this round: ${rate} req/s (open loop)`);
      }
      // Tokens live 60 s: fresh ones right before each run.
      const tokens = spec.auth ? await emulator.tokens(sessionIds) : undefined;
      const row = await measureOnce(spec.rate ? { ...spec, rate } : spec, tokens);
      if (spec.rate) row.rate = rate;
      thisRound[spec.name] = row;
      runs[spec.name].push(row);
      const cpu = row.workerdCpuUsPerRequest === null ? "" : `  ${row.workerdCpuUsPerRequest.toFixed(0)} µs CPU/req`;
      const bad =
        (row.non2xx + row.errors > 0 ? `  (${row.non2xx + row.errors} not 200)` : "") +
        (row.primeFailures ? `  (${row.primeFailures} priming requests not 200)` : "");
      // Store reads and object lookups per request: proof of where the revocation check went.
      const reads = row.memory
        ? `  ${(row.memory.storeReads / Math.max(row.requests, 1)).toFixed(2)} store reads/req, ${
            row.memory.directoryReads === null
              ? "directory lookups n/a"
              : `${(row.memory.directoryReads / Math.max(row.requests, 1)).toFixed(2)} directory lookups/req`
          }`
        : "";
      console.log(
        `  ${spec.label.padEnd(44)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms${cpu}${reads}${bad}`,
      );
      if (
        spec.name === "cached" &&
        row.memory?.directoryReads === 0 &&
        !row.memory.logReads &&
        row.memory.storeReads > 0
      )
        console.error(
          "  the warm read asked neither the session directory nor the revocation log: are SESSION_DIRECTORY and REVOCATION_LOG bound in wrangler.toml?",
        );
    }
  }
  return runs;
}

/** Thundering herd: HERD_USERS users the gateway has never seen, HERD_REQUESTS concurrent first requests each. */
export async function herdScenario() {
  process.stdout.write("  thundering herd … ");
  const herdUsers = await emulator.users("herd", HERD_USERS);
  const herdSessions = (await pool(herdUsers, 8, (id) => emulator.signIn(id))).map((s) => s.session_id);
  const herdTokens = await emulator.tokens(herdSessions);
  const herdTotal = HERD_USERS * HERD_REQUESTS;
  // The gateway is up and has its keys (JWKS) without touching the herd users' cache entries.
  await probe(url("gateway", "/healthz"));
  await emulator.clearCalls();
  const herd = await cannon({
    url: url("gateway", ACTIVE),
    connections: Math.min(herdTotal, HERD_USERS * 4),
    amount: herdTotal,
    requests: requestsFor(ACTIVE, herdTokens),
  });
  const row = summarise(
    "herd",
    `thundering herd: ${HERD_USERS} new users × ${HERD_REQUESTS}`,
    herd,
    await emulator.calls(),
  );
  console.log(`${row.upstreamCalls} upstream calls for ${row.requests} requests`);
  return row;
}

/**
 * Revokes at Clerk's pace: REVOKES sessions revoked one after another through the gateway with
 * the service key, each right after its owner's list was read (so the list was just written to
 * KV, the case where KV's one write per key per second used to hold the answer). Per revoke:
 * the wall time the caller waited and Clerk's own time (Server-Timing `upstream`, LATENCY_MS
 * included). Reported as medians.
 */
const REVOKES = 30;
export async function revokeScenario() {
  process.stdout.write("  revokes … ");
  const users = await emulator.users("revoke", REVOKES);
  const sessions = await pool(users, 8, (id) => emulator.signIn(id));
  const tokens = await emulator.tokens(sessions.map((s) => s.session_id));
  const totals = [];
  const upstream = [];
  for (const [i, session] of sessions.entries()) {
    await probe(url("gateway", ACTIVE), tokens[i]);
    const started = performance.now();
    const res = await fetch(url("gateway", `/v1/sessions/${session.session_id}/revoke`), {
      method: "POST",
      headers: { authorization: `Bearer ${SERVICE_KEY}` },
    });
    await res.arrayBuffer();
    const wall = performance.now() - started;
    if (res.status !== 200) continue;
    totals.push(wall);
    const m = /upstream;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
    if (m) upstream.push(Number(m[1]));
  }
  const med = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length === 0 ? null : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const row = {
    name: "revoke",
    label: `revoke through the gateway, ${REVOKES} in turn`,
    revokes: totals.length,
    p50: med(totals),
    upstreamP50: med(upstream),
  };
  console.log(
    `${totals.length} of ${REVOKES} answered 200; p50 ${row.p50?.toFixed(1)} ms, Clerk p50 ${row.upstreamP50} ms`,
  );
  return row;
}

export const setupLine = () =>
  `setup: ${USERS} users × ${SESSIONS_PER_USER} sessions, ${CONNECTIONS} connections, ${ROUNDS} rounds × (${WARMUP} s warm-up + ${DURATION} s) per scenario, fixed-rate runs (open loop) at ${RATE_FIXED ? `${RATE} req/s` : `${RATE_SHARE * 100}% of the round's slowest compared route, ${RATE_MIN}–${RATE} req/s`}`;
