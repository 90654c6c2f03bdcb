/**
 * What `npm run bench` reports: medians over the rounds, the ratios (printed with fixed
 * labels, the same figures in the JSON), the table, the chart. Every run writes bench/out/
 * (ignored by git); only `--record` writes the committed result: bench/results/latest.json,
 * docs/benchmarks.svg and the table between the markers in docs/benchmarks.md.
 */
import { execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { describe as describeBundle, kib, ROOT } from "./bundle-size.mjs";
import * as config from "./config.mjs";
import { workerErrorCount } from "./runtime.mjs";
import { OUT_DIR } from "./scenarios.mjs";
import { renderSvg } from "./svg.mjs";

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One row per scenario: medians of the rounds, sums of counts, every round kept. */
export function aggregate(spec, runs) {
  if (spec.unavailable) return { name: spec.name, label: spec.label, unavailable: spec.unavailable };
  if (runs.length === 0) return null;
  const first = runs[0];
  const sum = (k) => runs.reduce((acc, r) => acc + r[k], 0);
  const requests = sum("requests");
  const upstreamCalls = sum("upstreamCalls");
  const timingKeys = Object.keys(first.serverTimingMs ?? {});
  const memory = runs.every((r) => r.memory)
    ? {
        hits: runs.reduce((a, r) => a + r.memory.hits, 0),
        misses: runs.reduce((a, r) => a + r.memory.misses, 0),
        storeReads: runs.reduce((a, r) => a + r.memory.storeReads, 0),
        directoryReads: runs.every((r) => r.memory.directoryReads != null)
          ? runs.reduce((a, r) => a + r.memory.directoryReads, 0)
          : null,
      }
    : undefined;
  return {
    name: first.name,
    label: first.label,
    ...(first.rate ? { rates: runs.map((r) => r.rate) } : {}),
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    max: Math.max(...runs.map((r) => r.max)),
    requests,
    non2xx: sum("non2xx"),
    primeFailures: runs.reduce((a, r) => a + (r.primeFailures ?? 0), 0),
    errors: sum("errors"),
    upstreamCalls,
    upstreamPerRequest: requests > 0 ? upstreamCalls / requests : 0,
    durationS: sum("durationS"),
    workerdCpuUsPerRequest:
      first.workerdCpuUsPerRequest === null ? null : median(runs.map((r) => r.workerdCpuUsPerRequest)),
    ...(memory
      ? {
          memory: {
            ...memory,
            hitRatio: memory.hits / Math.max(memory.hits + memory.misses, 1),
            // Of the requests measured while the counters were read (the probes add a handful).
            storeReadsPerRequest: memory.storeReads / Math.max(requests, 1),
            directoryReadsPerRequest:
              memory.directoryReads === null ? null : memory.directoryReads / Math.max(requests, 1),
          },
        }
      : {}),
    ...(timingKeys.length
      ? {
          serverTimingMs: Object.fromEntries(
            timingKeys.map((k) => [k, median(runs.map((r) => r.serverTimingMs?.[k] ?? 0))]),
          ),
        }
      : {}),
    rounds: runs.map((r) => ({
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      upstreamCalls: r.upstreamCalls,
      requests: r.requests,
      workerdCpuUsPerRequest: r.workerdCpuUsPerRequest,
      ...(r.memory ? { memory: r.memory } : {}),
    })),
  };
}

/** The goals each headline ratio is read against (docs/benchmarks.md). */
export const GOALS = {
  cachedVsKvFloorThroughput: { op: ">=", value: 2 },
  cachedP99MinusKvFloorP99AtRateMs: { op: "<=", value: 0 },
  baselineP50OverCachedP50AtRate: { op: ">=", value: 10 },
  ourMiddlewareVsClerkHonoCpuPerRequest: { op: "<=", value: 0.5 },
  herdUpstreamCallsPerUser: { op: "<=", value: 1 },
  // The revocation check with the session directory may cost the warm read at most 10 % of its throughput.
  cachedWithDirectoryVsKvOnlyThroughput: { op: ">=", value: 0.9 },
  // No round trip on the hot path (docs/directory.md, "Recent revocations per location").
  hotPathStoreReadsPerRequestAtRate: { op: "<=", value: 0.05 },
  middlewareStoreReadsPerRequestAtRate: { op: "<=", value: 0.05 },
  revokeP50MinusClerkP50Ms: { op: "<=", value: 50 },
  warmReadCpuOverConstantCpu: { op: "<=", value: 3 },
};

export function computeRatios(by) {
  const ok = (name) => by[name] && !by[name].unavailable;
  const ratios = {};
  if (ok("cached") && ok("floor-kv")) ratios.cachedVsKvFloorThroughput = by.cached.rps / by["floor-kv"].rps;
  if (ok("cached-rate") && ok("floor-kv-rate")) {
    ratios.cachedP99MinusKvFloorP99AtRateMs = by["cached-rate"].p99 - by["floor-kv-rate"].p99;
  }
  if (ok("baseline-rate") && ok("cached-rate")) {
    ratios.baselineP50OverCachedP50AtRate = by["baseline-rate"].p50 / by["cached-rate"].p50;
  }
  if (
    ok("mw-ours") &&
    ok("mw-clerk") &&
    by["mw-ours"].workerdCpuUsPerRequest &&
    by["mw-clerk"].workerdCpuUsPerRequest
  ) {
    ratios.ourMiddlewareVsClerkHonoCpuPerRequest =
      by["mw-ours"].workerdCpuUsPerRequest / by["mw-clerk"].workerdCpuUsPerRequest;
  }
  if (by.herd) ratios.herdUpstreamCallsPerUser = by.herd.upstreamCalls / config.HERD_USERS;
  if (by.cached?.memory) {
    ratios.cachedMemoryHitRatio = by.cached.memory.hitRatio;
    ratios.cachedStoreReadsPerRequest = by.cached.memory.storeReadsPerRequest;
  }
  if (ok("cached") && ok("cached-kv-only")) {
    ratios.cachedWithDirectoryVsKvOnlyThroughput = by.cached.rps / by["cached-kv-only"].rps;
    if (by.cached.workerdCpuUsPerRequest && by["cached-kv-only"].workerdCpuUsPerRequest) {
      ratios.cachedWithDirectoryVsKvOnlyCpuPerRequest =
        by.cached.workerdCpuUsPerRequest / by["cached-kv-only"].workerdCpuUsPerRequest;
    }
    const reads = (name) => by[name].memory?.directoryReadsPerRequest;
    if (reads("cached") != null) ratios.cachedDirectoryReadsPerRequest = reads("cached");
    if (reads("cached-kv-only") != null) ratios.cachedKvOnlyDirectoryReadsPerRequest = reads("cached-kv-only");
  }
  if (by["cached-rate"]?.memory) {
    ratios.cachedAtRateStoreReadsPerRequest = by["cached-rate"].memory.storeReadsPerRequest;
    ratios.hotPathStoreReadsPerRequestAtRate = by["cached-rate"].memory.storeReadsPerRequest;
  }
  if (by["mw-ours-rate"]?.memory)
    ratios.middlewareStoreReadsPerRequestAtRate = by["mw-ours-rate"].memory.storeReadsPerRequest;
  if (by.revoke?.p50 != null && by.revoke.upstreamP50 != null)
    ratios.revokeP50MinusClerkP50Ms = by.revoke.p50 - by.revoke.upstreamP50;
  if (ok("cached") && ok("floor") && by.cached.workerdCpuUsPerRequest && by.floor.workerdCpuUsPerRequest)
    ratios.warmReadCpuOverConstantCpu = by.cached.workerdCpuUsPerRequest / by.floor.workerdCpuUsPerRequest;
  // Context, not goals.
  if (ok("cached") && ok("floor-kv") && by.cached.workerdCpuUsPerRequest && by["floor-kv"].workerdCpuUsPerRequest) {
    // What the throughput ratio would be if CPU were the only limit: steadier than req/s on a shared machine.
    ratios.cachedVsKvFloorCpuCapacity = by["floor-kv"].workerdCpuUsPerRequest / by.cached.workerdCpuUsPerRequest;
  }
  if (ok("cached") && ok("floor")) ratios.cachedVsConstantThroughput = by.cached.rps / by.floor.rps;
  if (ok("cached") && ok("healthz") && by.cached.workerdCpuUsPerRequest && by.healthz.workerdCpuUsPerRequest) {
    ratios.cachedVsHealthzCpuCapacity = by.healthz.workerdCpuUsPerRequest / by.cached.workerdCpuUsPerRequest;
  }
  if (ok("cached") && ok("nocache")) ratios.cachedVsNocacheThroughput = by.cached.rps / by.nocache.rps;
  if (ok("mw-ours-rate") && ok("mw-clerk-rate")) {
    ratios.ourMiddlewareP99MinusClerkHonoP99AtRateMs = by["mw-ours-rate"].p99 - by["mw-clerk-rate"].p99;
  }
  return ratios;
}

const goalText = (key) => {
  const goal = GOALS[key];
  return goal ? `goal ${goal.op === ">=" ? "≥" : "≤"} ${goal.value}` : "";
};
const met = (key, value) => {
  const goal = GOALS[key];
  if (!goal || value === undefined) return "";
  return (goal.op === ">=" ? value >= goal.value : value <= goal.value) ? "met" : "missed";
};
const ms = (v) => String(Number(v.toFixed(1)));

/** The labelled ratio lines, exactly as printed; `unavailable` says why a ratio has no figure. */
export function ratioLines(ratios, bundle, by) {
  const oursWhy = by["mw-ours"]?.unavailable;
  const line = (label, key, format, unit) => {
    const value = ratios[key];
    const figure =
      value === undefined
        ? key === "ourMiddlewareVsClerkHonoCpuPerRequest" && oursWhy
          ? oursWhy
          : "n/a (not measured in this run)"
        : `${format(value)}${unit}`;
    const note = value === undefined ? "" : `  (${goalText(key)}: ${met(key, value)})`;
    return `${label}: ${figure}${note}`;
  };
  return [
    line("cached / KV floor throughput", "cachedVsKvFloorThroughput", (v) => v.toFixed(2), "x"),
    line("cached p99 - KV floor p99 at fixed rate", "cachedP99MinusKvFloorP99AtRateMs", ms, " ms"),
    line("baseline p50 / cached p50 at fixed rate", "baselineP50OverCachedP50AtRate", (v) => v.toFixed(2), "x"),
    line(
      "our middleware / @clerk/hono CPU per request",
      "ourMiddlewareVsClerkHonoCpuPerRequest",
      (v) => v.toFixed(2),
      "x",
    ),
    line("herd upstream calls per user", "herdUpstreamCallsPerUser", (v) => v.toFixed(2), ""),
    line(
      "hot-path store reads per request at fixed rate",
      "hotPathStoreReadsPerRequestAtRate",
      (v) => v.toFixed(2),
      "",
    ),
    line(
      "middleware store reads per request at fixed rate",
      "middlewareStoreReadsPerRequestAtRate",
      (v) => v.toFixed(2),
      "",
    ),
    line("revoke p50 - Clerk p50", "revokeP50MinusClerkP50Ms", (v) => v.toFixed(0), " ms"),
    line("warm read CPU / constant Worker CPU", "warmReadCpuOverConstantCpu", (v) => v.toFixed(2), "x"),
    line(
      "cached with directory / cached KV-only throughput",
      "cachedWithDirectoryVsKvOnlyThroughput",
      (v) => v.toFixed(2),
      "x",
    ),
    `  CPU per request: ${directoryCpu(by, ratios)}`,
    `  (context) cached / KV floor by server CPU per request: ${
      ratios.cachedVsKvFloorCpuCapacity === undefined ? "n/a" : `${ratios.cachedVsKvFloorCpuCapacity.toFixed(2)}x`
    }`,
    `memory-layer hit ratio of the cached run: ${
      ratios.cachedMemoryHitRatio === undefined
        ? "n/a"
        : `${(ratios.cachedMemoryHitRatio * 100).toFixed(1)}% (${ratios.cachedStoreReadsPerRequest.toFixed(2)} store reads (KV or Durable Object) per request; ${
            ratios.cachedAtRateStoreReadsPerRequest === undefined
              ? "n/a"
              : ratios.cachedAtRateStoreReadsPerRequest.toFixed(2)
          } at the fixed rate)`
    }`,
    `bundle size: ${kib(bundle.minifiedBytes)} minified, ${kib(bundle.gzipBytes)} gzip (budget ${kib(bundle.budgetBytes)} gzip)`,
  ];
}

const us = (row) => (row?.workerdCpuUsPerRequest ? `${row.workerdCpuUsPerRequest.toFixed(0)} µs` : "n/a");
const perReq = (v) => (v == null ? "n/a" : v.toFixed(2));

/** CPU per request of the warm read with and without the object, and the object lookups each made. */
function directoryCpu(by, ratios) {
  if (!by.cached || !by["cached-kv-only"] || by["cached-kv-only"].unavailable) return "n/a (not measured in this run)";
  const ratio = ratios.cachedWithDirectoryVsKvOnlyCpuPerRequest;
  return (
    `with directory ${us(by.cached)}, KV-only ${us(by["cached-kv-only"])}` +
    `${ratio === undefined ? "" : ` (${ratio.toFixed(2)}x)`}; ` +
    `directory lookups per request ${perReq(ratios.cachedDirectoryReadsPerRequest)} vs ${perReq(ratios.cachedKvOnlyDirectoryReadsPerRequest)}`
  );
}

function cells(r) {
  if (r.unavailable) return [r.label, r.unavailable, "", "", "", "", ""];
  return [
    r.label,
    r.rps.toFixed(0),
    ms(r.p50),
    ms(r.p99),
    r.upstreamCalls === 0 ? "0" : `${r.upstreamCalls} (${r.upstreamPerRequest.toFixed(2)}/req)`,
    r.workerdCpuUsPerRequest == null ? "n/a" : r.workerdCpuUsPerRequest.toFixed(0),
    String(r.non2xx + r.errors),
  ];
}
const HEAD = ["scenario", "req/s", "p50 ms", "p99 ms", "upstream calls", "workerd CPU µs/req", "not 200"];

function printTable(rows) {
  const body = rows.map(cells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cs) => `| ${cs.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  console.log("");
  console.log(line(HEAD));
  console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const row of body) console.log(line(row));
  console.log("");
}

/** The markdown block docs/benchmarks.md shows between its markers, from a recorded result. */
export function markdownBlock(result, lines) {
  const out = [];
  out.push(
    `| ${HEAD.join(" | ")} |`,
    `|---|${HEAD.slice(1)
      .map(() => "--:")
      .join("|")}|`,
  );
  for (const r of result.scenarios) out.push(`| ${cells(r).join(" | ")} |`);
  out.push("", "```text", ...lines, "```", "");
  const m = result.method;
  out.push(
    `Recorded ${result.date.slice(0, 16).replace("T", " ")} UTC at commit \`${result.commit}\` ` +
      `(\`npm run bench -- --record\`: ${m.rounds} rounds × ${m.durationPerRunS} s, medians; ` +
      `fixed-rate runs at ${fixedRates(result)} req/s), load average ${result.machine.loadAverage.map((v) => v.toFixed(2)).join(" / ")} ` +
      "(1 / 5 / 15 min) when the run started. Every field is in `bench/results/latest.json`.",
  );
  return out.join("\n");
}

/** The rates the fixed-rate runs used, one per round. */
function fixedRates(result) {
  const rates = result.scenarios.find((r) => r.rates)?.rates ?? [];
  return rates.length ? rates.join(", ") : "n/a";
}

function gitCommit() {
  try {
    return execSync("git rev-parse --short HEAD", { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** Prints the table and ratios, writes bench/out/ and, with --record, the committed files. */
export function report({ specs, runs, herd, revoke, bundle, loadAtStart }) {
  const rows = specs.map((spec) => aggregate(spec, runs[spec.name] ?? [])).filter(Boolean);
  if (herd) rows.push(herd);
  const extras = revoke ? { revoke } : {};
  if (rows.length === 0) return;
  const by = { ...Object.fromEntries(rows.map((r) => [r.name, r])), ...extras };
  const ratios = computeRatios(by);
  printTable(rows);
  if (workerErrorCount() > 0)
    console.log(`Workers logged ${workerErrorCount()} error lines during the run (the first ones are above).`);
  const lines = ratioLines(ratios, bundle, by);
  for (const line of lines) console.log(line);
  console.log(describeBundle(bundle));

  const result = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    partial: Boolean(config.ONLY) || config.QUICK,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model?.trim(),
      memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverage: loadAtStart,
      note: "server (workerd) and load generator (autocannon) share the same cores",
    },
    workerErrorLines: workerErrorCount(),
    method: {
      runtime: "miniflare (workerd), one instance, unsafeDirectSockets per Worker",
      loadGenerator: "autocannon 9 (saturated runs) and an open-loop generator (fixed-rate runs), loopback",
      quick: config.QUICK,
      rounds: config.ROUNDS,
      durationPerRunS: config.DURATION,
      warmupS: config.WARMUP,
      connections: config.CONNECTIONS,
      users: config.USERS,
      sessionsPerUser: config.SESSIONS_PER_USER,
      herdUsers: config.HERD_USERS,
      herdRequestsPerUser: config.HERD_REQUESTS,
      upstreamLatencyMs: config.LATENCY_MS,
      fixedRate: config.RATE_FIXED
        ? { reqPerS: config.RATE }
        : { share: config.RATE_SHARE, minReqPerS: config.RATE_MIN, maxReqPerS: config.RATE },
      latencyScenarioLoad: "open loop, one request every 1/rate s, keep-alive sockets as needed",
    },
    bundle: { minifiedBytes: bundle.minifiedBytes, gzipBytes: bundle.gzipBytes, budgetBytes: bundle.budgetBytes },
    scenarios: rows,
    ...(revoke ? { revoke } : {}),
    ratios,
    printed: lines,
    goals: GOALS,
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, "latest.json"), text);
  writeFileSync(join(OUT_DIR, "benchmarks.svg"), renderSvg(result));
  console.log("wrote bench/out/latest.json and bench/out/benchmarks.svg");
  if (!config.RECORD) return;

  const resultsDir = join(ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "latest.json"), text);
  if (config.SAVE) writeFileSync(join(resultsDir, `${result.date.replace(/[:.]/g, "-")}.json`), text);
  writeFileSync(join(ROOT, "docs", "benchmarks.svg"), renderSvg(result));
  const docs = join(ROOT, "docs", "benchmarks.md");
  const md = readFileSync(docs, "utf8");
  const start = "<!-- bench:table -->";
  const end = "<!-- /bench:table -->";
  const a = md.indexOf(start);
  const b = md.indexOf(end);
  if (a !== -1 && b > a) {
    writeFileSync(docs, `${md.slice(0, a + start.length)}\n${markdownBlock(result, lines)}\n${md.slice(b)}`);
  }
  console.log("recorded: bench/results/latest.json, docs/benchmarks.svg, the table in docs/benchmarks.md");
}

export const loadAverage = () => loadavg().map((v) => Number(v.toFixed(2)));
