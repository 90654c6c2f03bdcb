#!/usr/bin/env node
/**
 * `npm run bench`: builds the gateway, the Clerk emulator and the baseline Worker with
 * `wrangler deploy --dry-run --minify`, runs all of them in ONE Miniflare (workerd)
 * instance, each on its own loopback socket (`unsafeDirectSockets`, no dev tooling in
 * the path), and drives them with autocannon. The emulator answers every /v1 call after
 * LATENCY_MS (30 ms, a round trip to Clerk); the gateways' and the baseline's outbound
 * fetch goes to it through Miniflare's `outboundService`.
 *
 * Prints the table and ratios, writes bench/results/latest.json (and a timestamped copy
 * with --save), draws docs/benchmarks.svg. Method: docs/benchmarks.md.
 *
 * Knobs (env): BENCH_ROUNDS (3), BENCH_DURATION (s per run, 5), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (32),
 * BENCH_USERS (200), BENCH_SESSIONS_PER_USER (2), BENCH_HERD_USERS (50),
 * BENCH_HERD_REQUESTS (20 per user), BENCH_LATENCY_MS (30), BENCH_PORT (18790, uses +0..+3).
 */
import { execSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { buildWorker, describe as describeBundle, measure, ROOT } from "./bundle-size.mjs";
import { renderSvg } from "./svg.mjs";

const num = (name, fallback) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number`);
  return value;
};
const DURATION = num("BENCH_DURATION", 5);
const ROUNDS = Math.max(1, num("BENCH_ROUNDS", 3));
const WARMUP = num("BENCH_WARMUP", 2);
const CONNECTIONS = num("BENCH_CONNECTIONS", 32);
const USERS = num("BENCH_USERS", 200);
const SESSIONS_PER_USER = num("BENCH_SESSIONS_PER_USER", 2);
const HERD_USERS = num("BENCH_HERD_USERS", 50);
const HERD_REQUESTS = num("BENCH_HERD_REQUESTS", 20);
const LATENCY_MS = num("BENCH_LATENCY_MS", 30);
/** Open-loop rate (req/s) of the latency scenarios: latency when the server is not saturated. */
const RATE = num("BENCH_RATE", 200);
const PORT = num("BENCH_PORT", 18790);
const SAVE = process.argv.includes("--save");
/** BENCH_SCENARIOS=healthz,cached runs only those (for profiling); the result goes to bench/results/partial.tmp.json. */
const ONLY = process.env.BENCH_SCENARIOS ? new Set(process.env.BENCH_SCENARIOS.split(",")) : null;
const wanted = (name) => !ONLY || ONLY.has(name);
/** BENCH_PROFILE=cached (a scenario name): CPU profile of the gateway isolate over that scenario's runs, via the inspector. */
const PROFILE = process.env.BENCH_PROFILE || null;
const INSPECTOR_PORT = PORT + 10;

const HOST = "127.0.0.1";
const ORIGIN = "http://localhost:8787";
const COMPAT = "2026-10-01";
const SECRET_KEY = "sk_test_localDevEmulatorKey_notASecret_0123456789";
const PUBLISHABLE_KEY = "pk_test_aGFwcHktaGlwcG8tNDIuY2xlcmsuYWNjb3VudHMuZGV2JA";
// Outbound fetch of every Worker but the emulator lands on the emulator, host preserved:
// the gateway calls "Clerk" at its real origin and never reaches the network.
const API_URL = "https://api.clerk.com";
const ports = { gateway: PORT, nocache: PORT + 1, baseline: PORT + 2, emulator: PORT + 3 };
const url = (name, path) => `http://${HOST}:${ports[name]}${path}`;

// ---------------------------------------------------------------- build
const dist = join(ROOT, "bench", "dist");
console.log("building the gateway, the emulator and the baseline (wrangler deploy --dry-run --minify) …");
const scripts = {
  gateway: buildWorker("wrangler.toml", join(dist, "gateway")),
  emulator: buildWorker("emulator/wrangler.toml", join(dist, "emulator")),
  baseline: buildWorker("bench/baseline/wrangler.toml", join(dist, "baseline")),
};
const bundle = measure(scripts.gateway);
console.log(describeBundle(bundle));

// ---------------------------------------------------------------- runtime
const gatewayVars = {
  CLERK_SECRET_KEY: SECRET_KEY,
  CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
  CLERK_API_URL: API_URL,
  CLERK_API_VERSION: "2026-05-12",
  CLERK_AUTHORIZED_PARTIES: `${ORIGIN},http://127.0.0.1:8787`,
  GATEWAY_API_KEYS: "gw_dev_localServiceKey_0001",
  SESSION_CACHE_TTL_SECONDS: "30",
};
const direct = (name) => [{ host: HOST, port: ports[name] }];
const mf = new Miniflare(
  convertV4MiniflareOptions({
    log: new Log(LogLevel.WARN),
    cf: false,
    ...(PROFILE ? { inspectorPort: INSPECTOR_PORT } : {}),
    // Every request writes a JSON log line; discard them here (they still cost the Worker the console.log).
    handleStructuredLogs: () => {},
    workers: [
      {
        name: "gateway",
        modules: true,
        scriptPath: scripts.gateway,
        compatibilityDate: COMPAT,
        bindings: gatewayVars,
        kvNamespaces: { SESSION_CACHE: "bench-gateway" },
        outboundService: "clerk-emulator",
        unsafeDirectSockets: direct("gateway"),
      },
      {
        name: "gateway-nocache",
        modules: true,
        scriptPath: scripts.gateway,
        compatibilityDate: COMPAT,
        // 0 disables the session cache: every /v1/me/sessions/active read goes to Clerk.
        bindings: { ...gatewayVars, SESSION_CACHE_TTL_SECONDS: "0" },
        kvNamespaces: { SESSION_CACHE: "bench-gateway-nocache" },
        outboundService: "clerk-emulator",
        unsafeDirectSockets: direct("nocache"),
      },
      {
        name: "baseline",
        modules: true,
        scriptPath: scripts.baseline,
        compatibilityDate: COMPAT,
        compatibilityFlags: ["nodejs_compat"],
        bindings: {
          CLERK_SECRET_KEY: SECRET_KEY,
          CLERK_API_URL: API_URL,
          CLERK_AUTHORIZED_PARTIES: gatewayVars.CLERK_AUTHORIZED_PARTIES,
        },
        outboundService: "clerk-emulator",
        unsafeDirectSockets: direct("baseline"),
      },
      {
        name: "clerk-emulator",
        modules: true,
        scriptPath: scripts.emulator,
        compatibilityDate: COMPAT,
        bindings: {
          CLERK_SECRET_KEY: SECRET_KEY,
          CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
          CLERK_WEBHOOK_SIGNING_SECRET: "whsec_bG9jYWwtZGV2LWVtdWxhdG9yLXdlYmhvb2tz",
          INSTANCE_ID: "ins_2happyHippo42EmulatorInstance",
          LATENCY_MS: String(LATENCY_MS),
          DEFAULT_AZP: ORIGIN,
        },
        unsafeDirectSockets: direct("emulator"),
      },
    ],
  }),
);

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await mf.dispose().catch(() => {});
  process.exit(code);
}
process.on("SIGINT", () => stop(130));
process.on("SIGTERM", () => stop(143));

async function json(method, target, body) {
  const res = await fetch(target, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json", origin: ORIGIN },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${target}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

const emulator = {
  users: (prefix, n) =>
    pool(
      Array.from({ length: n }, (_, i) => `${prefix}_${String(i).padStart(4, "0")}`),
      8,
      async (username) => (await json("POST", url("emulator", "/__emulator/users"), { username })).id,
    ),
  signIn: (userId) => json("POST", url("emulator", "/__dev/sign_in"), { user_id: userId, origin: ORIGIN }),
  /** A fresh 60 s token for each session (tokens must not expire mid-scenario). */
  tokens: (sessionIds) =>
    pool(
      sessionIds,
      8,
      async (sid) => (await json("POST", url("emulator", `/__dev/sessions/${sid}/token`), { origin: ORIGIN })).jwt,
    ),
  clearCalls: () => json("DELETE", url("emulator", "/__emulator/calls")),
  calls: async () => (await json("GET", url("emulator", "/__emulator/calls"))).calls.length,
};

/**
 * autocannon run. With a `requests` list, connection i starts at its own offset in it, so
 * the connections spread over all users and tokens instead of walking the list in step.
 */
function cannon(opts) {
  const connections = opts.connections ?? CONNECTIONS;
  const list = opts.requests;
  let client = 0;
  const setupClient = list
    ? (c) => {
        const offset = Math.floor((client++ * list.length) / connections) % list.length;
        c.setRequests([...list.slice(offset), ...list.slice(0, offset)]);
      }
    : undefined;
  return new Promise((resolve, reject) => {
    autocannon(
      { connections, pipelining: 1, timeout: 10, ...opts, ...(setupClient ? { setupClient } : {}) },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

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

const requestsFor = (path, tokens) =>
  tokens.map((token) => ({ method: "GET", path, headers: { authorization: `Bearer ${token}` } }));

/** Checks a scenario's route answers 200 before measuring it. */
async function probe(target, token) {
  const res = await fetch(target, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const body = await res.text();
  if (res.status !== 200) throw new Error(`probe ${target}: ${res.status} ${body.slice(0, 300)}`);
  return res;
}

/** Warm-up, then a measured run; upstream calls counted over the measured run only. */
/**
 * CPU time (ms) the workerd process has used so far, from /proc (Linux): a measure of the
 * server's cost per request that other load on the machine barely disturbs. null elsewhere.
 */
function findWorkerdPid() {
  const seen = new Set();
  const walk = (pid) => {
    if (seen.has(pid)) return null;
    seen.add(pid);
    const taskDir = `/proc/${pid}/task`;
    if (!existsSync(taskDir)) return null;
    for (const tid of readdirSync(taskDir)) {
      let children = "";
      try {
        children = readFileSync(`${taskDir}/${tid}/children`, "utf8");
      } catch {}
      for (const child of children.split(" ").filter(Boolean)) {
        try {
          if (readFileSync(`/proc/${child}/comm`, "utf8").trim() === "workerd") return Number(child);
        } catch {}
        const deeper = walk(Number(child));
        if (deeper) return deeper;
      }
    }
    return null;
  };
  return walk(process.pid);
}
let workerdPid;
function workerdCpuMs() {
  workerdPid ??= findWorkerdPid();
  if (!workerdPid) return null;
  try {
    const fields = readFileSync(`/proc/${workerdPid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return null;
  }
}

/** Starts V8's sampling profiler in one Worker's isolate (Chrome DevTools protocol on Miniflare's inspector port). */
async function startProfile(worker) {
  const { default: WebSocket } = await import("ws");
  const targets = await (await fetch(`http://${HOST}:${INSPECTOR_PORT}/json`)).json();
  const target = targets.find((t) => t.title?.includes(worker) || t.id?.includes(worker)) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg.result);
      pending.delete(msg.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  return {
    async stop(file) {
      const { profile } = await send("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      ws.close();
      console.log(`  profile written to ${file} (${target.title ?? target.id})`);
    },
  };
}

/** One measured run of a scenario: warm-up, then DURATION s; upstream calls counted over the measured part only. */
async function measureOnce(spec, tokens) {
  const { base, path } = spec;
  const requests = tokens ? requestsFor(path, tokens) : undefined;
  await probe(`${base}${path}`, tokens?.[0]);
  if (spec.prime && tokens) await pool(tokens, 16, (t) => probe(`${base}${path}`, t));
  const extra = { ...(requests ? { requests } : {}), ...(spec.cannon ?? {}) };
  if (WARMUP > 0) await cannon({ url: `${base}${path}`, duration: WARMUP, ...extra });
  await emulator.clearCalls();
  const profiler = PROFILE === spec.name ? await startProfile("gateway") : null;
  const cpuBefore = workerdCpuMs();
  const r = await cannon({ url: `${base}${path}`, duration: DURATION, ...extra });
  const cpuAfter = workerdCpuMs();
  if (profiler) await profiler.stop(join(ROOT, "bench", "results", `${spec.name}.tmp.cpuprofile`));
  const row = summarise(spec.name, spec.label, r, await emulator.calls());
  // workerd CPU per request (µs): gateway + emulator; for healthz and the warm cache it is the gateway alone.
  row.workerdCpuUsPerRequest =
    cpuBefore === null || cpuAfter === null || row.requests === 0
      ? null
      : ((cpuAfter - cpuBefore) * 1000) / row.requests;
  row.serverTimingMs = await serverTiming(`${base}${path}`, tokens);
  return row;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Rounds of runs of every scenario in turn, so background load hits all of them alike; medians per scenario. */
function aggregate(runs) {
  const first = runs[0];
  const sum = (k) => runs.reduce((acc, r) => acc + r[k], 0);
  const requests = sum("requests");
  const upstreamCalls = sum("upstreamCalls");
  const timingKeys = Object.keys(first.serverTimingMs ?? {});
  return {
    name: first.name,
    label: first.label,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    max: Math.max(...runs.map((r) => r.max)),
    requests,
    non2xx: sum("non2xx"),
    errors: sum("errors"),
    upstreamCalls,
    upstreamPerRequest: requests > 0 ? upstreamCalls / requests : 0,
    durationS: sum("durationS"),
    workerdCpuUsPerRequest:
      first.workerdCpuUsPerRequest === null ? null : median(runs.map((r) => r.workerdCpuUsPerRequest)),
    serverTimingMs: Object.fromEntries(timingKeys.map((k) => [k, median(runs.map((r) => r.serverTimingMs?.[k] ?? 0))])),
    rounds: runs.map((r) => ({
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      upstreamCalls: r.upstreamCalls,
      requests: r.requests,
      workerdCpuUsPerRequest: r.workerdCpuUsPerRequest,
    })),
  };
}

function summarise(name, label, r, upstream) {
  const total = r.requests.total;
  return {
    name,
    label,
    rps: r.requests.average,
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

// ---------------------------------------------------------------- run
const rows = [];
const pushRow = (row) => row && rows.push(row);
let exitCode = 0;
try {
  await mf.ready;
  await probe(url("gateway", "/healthz"));
  await probe(url("emulator", "/__dev/users"));
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; ` +
      `server and load generator share the cores`,
  );
  console.log(
    `setup: ${USERS} users × ${SESSIONS_PER_USER} sessions, ${CONNECTIONS} connections, ${ROUNDS} rounds × (${WARMUP} s warm-up + ${DURATION} s) per scenario, emulator LATENCY_MS=${LATENCY_MS}`,
  );

  const userIds = await emulator.users("bench", USERS);
  const sessionIds = (
    await pool(
      userIds.flatMap((id) => Array.from({ length: SESSIONS_PER_USER }, () => id)),
      8,
      (id) => emulator.signIn(id),
    )
  ).map((s) => s.session_id);

  const specs = [
    // The runtime's floor: a trivial Worker (the baseline's /healthz: no framework, no middleware).
    { name: "floor", label: "trivial Worker GET /healthz", base: url("baseline", ""), path: "/healthz" },
    { name: "healthz", label: "GET /healthz", base: url("gateway", ""), path: "/healthz" },
    // Latency below saturation: the same two routes at a fixed rate (open loop), 8 connections.
    // Order matters: the warm-cache runs follow each other, so the lists primed here are still fresh
    // (TTL 30 s) at the end of the saturated warm-cache run; a round is long enough for them to expire before the next.
    {
      name: "healthz-rate",
      label: `GET /healthz at ${RATE} req/s`,
      base: url("gateway", ""),
      path: "/healthz",
      cannon: { overallRate: RATE, connections: 8 },
    },
    {
      name: "cached-rate",
      label: `warm cache at ${RATE} req/s`,
      base: url("gateway", ""),
      path: "/v1/me/sessions/active",
      auth: true,
      prime: true,
      cannon: { overallRate: RATE, connections: 8 },
    },
    {
      name: "cached",
      label: "/v1/me/sessions/active, warm cache",
      base: url("gateway", ""),
      path: "/v1/me/sessions/active",
      auth: true,
      prime: true,
    },
    {
      name: "nocache",
      label: "same, cache disabled (TTL 0)",
      base: url("nocache", ""),
      path: "/v1/me/sessions/active",
      auth: true,
    },
    {
      name: "baseline",
      label: "baseline: @clerk/backend per request",
      base: url("baseline", ""),
      path: "/v1/me/sessions/active",
      auth: true,
    },
  ].filter((spec) => wanted(spec.name));
  const runs = Object.fromEntries(specs.map((spec) => [spec.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}/${ROUNDS}:`);
    for (const spec of specs) {
      // Tokens live 60 s: fresh ones right before each run.
      const tokens = spec.auth ? await emulator.tokens(sessionIds) : undefined;
      const row = await measureOnce(spec, tokens);
      runs[spec.name].push(row);
      console.log(`  ${spec.label.padEnd(38)} ${row.rps.toFixed(0).padStart(6)} req/s  p99 ${row.p99} ms`);
    }
  }
  for (const spec of specs) pushRow(aggregate(runs[spec.name]));

  if (wanted("herd")) await herdScenario();
} catch (error) {
  console.error(error);
  exitCode = 1;
}

async function herdScenario() {
  // Thundering herd: users the gateway has never seen, HERD_REQUESTS concurrent first requests each.
  process.stdout.write("  thundering herd … ");
  const herdUsers = await emulator.users("herd", HERD_USERS);
  const herdSessions = (await pool(herdUsers, 8, (id) => emulator.signIn(id))).map((s) => s.session_id);
  const herdTokens = await emulator.tokens(herdSessions);
  const herdRequests = requestsFor("/v1/me/sessions/active", herdTokens);
  const herdTotal = HERD_USERS * HERD_REQUESTS;
  // Verify the tokens' keys are loaded (JWKS) without touching the herd users' cache entries.
  await probe(url("gateway", "/healthz"));
  await emulator.clearCalls();
  const herd = await cannon({
    url: url("gateway", "/v1/me/sessions/active"),
    connections: Math.min(herdTotal, HERD_USERS * 4),
    amount: herdTotal,
    requests: herdRequests,
  });
  const herdRow = summarise(
    "herd",
    `thundering herd: ${HERD_USERS} new users × ${HERD_REQUESTS}`,
    herd,
    await emulator.calls(),
  );
  herdRow.rps = herd.requests.total / Math.max(herd.duration, 0.001);
  rows.push(herdRow);
  console.log(`${herdRow.upstreamCalls} upstream calls for ${herdRow.requests} requests`);
}

if (rows.length > 0) {
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  const ratios = {};
  if (by.cached && by.healthz) {
    ratios.cachedVsHealthzThroughput = by.cached.rps / by.healthz.rps;
    ratios.cachedP99MinusHealthzP99Ms = by.cached.p99 - by.healthz.p99;
  }
  if (by.cached?.workerdCpuUsPerRequest && by.healthz?.workerdCpuUsPerRequest) {
    // Capacity ratio from server CPU per request: what the throughput ratio would be with the cores to itself.
    ratios.cachedVsHealthzCpuCapacity = by.healthz.workerdCpuUsPerRequest / by.cached.workerdCpuUsPerRequest;
  }
  if (by.cached && by.baseline) ratios.cachedVsBaselineThroughput = by.cached.rps / by.baseline.rps;
  if (by["cached-rate"] && by["healthz-rate"]) {
    ratios.cachedP99MinusHealthzP99AtRateMs = by["cached-rate"].p99 - by["healthz-rate"].p99;
  }
  if (by.cached && by.nocache) ratios.cachedVsNocacheThroughput = by.cached.rps / by.nocache.rps;
  if (by.herd) ratios.herdUpstreamCallsPerUser = by.herd.upstreamCalls / HERD_USERS;

  printTable(rows, ratios);
  console.log(describeBundle(bundle));

  const result = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model?.trim(),
      memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      note: "server (workerd) and load generator (autocannon) share the same cores",
    },
    method: {
      runtime: "miniflare (workerd), one instance, unsafeDirectSockets per Worker",
      loadGenerator: "autocannon 9, loopback",
      rounds: ROUNDS,
      durationPerRunS: DURATION,
      warmupS: WARMUP,
      connections: CONNECTIONS,
      users: USERS,
      sessionsPerUser: SESSIONS_PER_USER,
      herdUsers: HERD_USERS,
      herdRequestsPerUser: HERD_REQUESTS,
      upstreamLatencyMs: LATENCY_MS,
      latencyScenarioRate: RATE,
    },
    bundle: { minifiedBytes: bundle.minifiedBytes, gzipBytes: bundle.gzipBytes, budgetBytes: bundle.budgetBytes },
    scenarios: rows,
    ratios,
    targets: {
      cachedVsHealthzThroughput: 0.8,
      cachedVsBaselineThroughput: 10,
      cachedP99MinusHealthzP99Ms: 2,
      cachedP99MinusHealthzP99AtRateMs: 2,
    },
  };
  const resultsDir = join(ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  if (ONLY) {
    writeFileSync(join(resultsDir, "partial.tmp.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log("wrote bench/results/partial.tmp.json (partial run)");
    await stop(exitCode);
  }
  writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (SAVE)
    writeFileSync(
      join(resultsDir, `${result.date.replace(/[:.]/g, "-")}.json`),
      `${JSON.stringify(result, null, 2)}\n`,
    );
  writeFileSync(join(ROOT, "docs", "benchmarks.svg"), renderSvg(result));
  console.log("wrote bench/results/latest.json and docs/benchmarks.svg");
}

await stop(exitCode);

function printTable(rows, ratios) {
  const head = [
    "scenario",
    "req/s",
    "p50 ms",
    "p99 ms",
    "upstream calls",
    "per request",
    "workerd CPU µs/req",
    "non-2xx",
  ];
  const body = rows.map((r) => [
    r.label,
    r.rps.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    String(r.upstreamCalls),
    r.upstreamPerRequest.toFixed(3),
    r.workerdCpuUsPerRequest == null ? "n/a" : r.workerdCpuUsPerRequest.toFixed(0),
    String(r.non2xx + r.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  console.log("");
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const row of body) console.log(line(row));
  console.log("");
  const fmt = (v, d = 2) => (v === undefined ? "n/a" : v.toFixed(d));
  console.log(`cached / healthz throughput:   ${fmt(ratios.cachedVsHealthzThroughput)}x  (target ≥ 0.8x)`);
  console.log(
    `cached / healthz CPU capacity:  ${fmt(ratios.cachedVsHealthzCpuCapacity)}x  (healthz CPU/req ÷ cached CPU/req)`,
  );
  console.log(`cached / baseline throughput:  ${fmt(ratios.cachedVsBaselineThroughput, 1)}x  (target ≥ 10x)`);
  console.log(`cached p99 − healthz p99:      ${fmt(ratios.cachedP99MinusHealthzP99Ms)} ms  (target ≤ 2 ms)`);
  console.log(
    `p99 gap at ${RATE} req/s:         ${fmt(ratios.cachedP99MinusHealthzP99AtRateMs)} ms  (cached − healthz, below saturation)`,
  );
  console.log(`cached / cache-disabled:       ${fmt(ratios.cachedVsNocacheThroughput, 1)}x`);
  console.log(`herd upstream calls per user:  ${fmt(ratios.herdUpstreamCallsPerUser)}  (single flight: 1)`);
}

function gitCommit() {
  try {
    return execSync("git rev-parse --short HEAD", { cwd: ROOT }).toString().trim();
  } catch {
    return null;
  }
}
