/**
 * The bench's knobs, read once from the environment and the command line.
 *
 *   npm run bench                   full run (≈ 6 min on 2 cores), results in bench/out/ (ignored)
 *   npm run bench -- --quick        every scenario briefly (≈ 1 min): proves the bench works, measures little
 *   npm run bench -- --record       also writes the committed result: bench/results/latest.json,
 *                                   docs/benchmarks.svg and the table in docs/benchmarks.md
 *   npm run bench -- --record --save   plus a timestamped copy in bench/results/
 *
 * Environment: BENCH_QUICK=1 (same as --quick), BENCH_ROUNDS (3), BENCH_DURATION (s per run, 5),
 * BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (32), BENCH_USERS (200), BENCH_SESSIONS_PER_USER (2),
 * BENCH_HERD_USERS (50), BENCH_HERD_REQUESTS (20 per user), BENCH_LATENCY_MS (30),
 * BENCH_RATE (fixes the rate of the fixed-rate runs; by default a quarter of the slowest
 * compared route's saturated throughput that round, at most 200 req/s),
 * BENCH_PORT (8831; uses it and the next eight), BENCH_SCENARIOS (comma-separated names: a partial
 * run, never recorded), BENCH_PROFILE (a scenario name: V8 CPU profile of the Worker it measures).
 */
const argv = new Set(process.argv.slice(2));
export const QUICK = argv.has("--quick") || process.env.BENCH_QUICK === "1";

const num = (name, full, quick = full) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? (QUICK ? quick : full) : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number`);
  return value;
};

export const ROUNDS = Math.max(1, num("BENCH_ROUNDS", 3, 1));
export const DURATION = num("BENCH_DURATION", 5, 1);
export const WARMUP = num("BENCH_WARMUP", 2, 0.5);
export const CONNECTIONS = num("BENCH_CONNECTIONS", 32);
export const USERS = num("BENCH_USERS", 200, 40);
export const SESSIONS_PER_USER = num("BENCH_SESSIONS_PER_USER", 2);
export const HERD_USERS = num("BENCH_HERD_USERS", 50, 10);
export const HERD_REQUESTS = num("BENCH_HERD_REQUESTS", 20, 10);
export const LATENCY_MS = num("BENCH_LATENCY_MS", 30);
/**
 * Open-loop rate (req/s) of the fixed-rate runs: latency when the server is not saturated.
 * BENCH_RATE fixes it; otherwise each round uses RATE_SHARE of the slowest saturated
 * throughput among the routes compared at that rate, between RATE_MIN and RATE: on a busy
 * machine a fixed 200 req/s can be past saturation, and then it measures a queue.
 */
export const RATE_FIXED = process.env.BENCH_RATE !== undefined && process.env.BENCH_RATE !== "";
export const RATE = num("BENCH_RATE", 200, 100);
export const RATE_SHARE = 0.25;
export const RATE_MIN = 20;
export const PORT = num("BENCH_PORT", 8831);

export const RECORD = argv.has("--record");
export const SAVE = argv.has("--save");
export const ONLY = process.env.BENCH_SCENARIOS ? new Set(process.env.BENCH_SCENARIOS.split(",")) : null;
export const PROFILE = process.env.BENCH_PROFILE || null;

if (RECORD && (QUICK || ONLY))
  throw new Error("--record needs a full run: drop --quick / BENCH_QUICK and BENCH_SCENARIOS");
