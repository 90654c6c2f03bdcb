#!/usr/bin/env node
/**
 * `npm run bench:scale`: the scale model of the revocation check, today's design beside the new
 * one ("recent revocations per location"), for the default scenario and a sweep. Seeded: the same
 * seed prints the same figures. The model and its sources: docs/benchmarks.md, "Scale model".
 *
 *   npm run bench:scale                     default scenario and sweep; writes bench/out/scale-latest.json
 *   npm run bench:scale -- --seed=7         another seed
 *   npm run bench:scale -- --quick          the default scenario only, fewer sampled users
 *   npm run bench:scale -- --record         also bench/results/scale-latest.json and the block in docs/benchmarks.md
 *
 * Any parameter of params.mjs can be set for the default scenario: `-- --set reqPerS=1e6 --set replicas=3`.
 */
import { execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./code.mjs";
import { runScenario } from "./model.mjs";
import { DEFAULTS } from "./params.mjs";
import { calibrationLines, comparisonRows, detailLines, goalLines, headerLines, sweepRows, table } from "./report.mjs";
import { localBench } from "./today.mjs";

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const QUICK = flag("quick");
const RECORD = flag("record");
const seedArg = args.find((a) => a.startsWith("--seed="));
const seed = seedArg ? Number(seedArg.slice("--seed=".length)) : DEFAULTS.seed;
if (!Number.isInteger(seed)) throw new Error("--seed must be an integer");
const overrides = {};
args.forEach((a, i) => {
  if (a !== "--set") return;
  const [key, raw] = (args[i + 1] ?? "").split("=");
  if (!(key in DEFAULTS)) throw new Error(`--set ${key}: not a parameter of bench/scale/params.mjs`);
  overrides[key] = typeof DEFAULTS[key] === "number" ? Number(raw) : raw;
});
if (RECORD && (QUICK || Object.keys(overrides).length))
  throw new Error("--record needs the default run: drop --quick and --set");

/** One parameter changed per row; the rows run with a smaller sample and window (see SWEEP_SIM). */
export const SWEEP = [
  ["default", {}],
  ["10k req/s", { reqPerS: 10_000 }],
  ["1M req/s", { reqPerS: 1_000_000 }],
  ["50 locations", { locations: 50 }],
  ["1,000 locations", { locations: 1_000 }],
  ["10 revocations/s", { revocationsPerS: 10 }],
  ["1,000 revocations/s", { revocationsPerS: 1_000 }],
  ["isolates ×0.2 (100 req/s each)", { reqPerIsolate: 100 }],
  ["isolates ×4 (5 req/s each)", { reqPerIsolate: 5 }],
  ["1 log replica", { replicas: 1 }],
  ["3 log replicas", { replicas: 3 }],
  ["no poll jitter", { pollJitter: 0 }],
  ["cache freshness 250 ms", { cacheTtlMs: 250 }],
  ['cache "bucket" keys, 500 ms', { cacheMode: "bucket" }],
  ["no page-load bursts (1 request each)", { burstMean: 1 }],
];
export const SWEEP_SIM = { sampleUsers: 20_000, windowS: 30, revocationSamples: 500 };

const started = performance.now();
const base = { seed, ...(QUICK ? { sampleUsers: 30_000 } : {}), ...overrides };
const result = runScenario(base);
const calibration = [localBench({ rate: 181 }), localBench({ rate: 2_397, connections: 32 })];
const sweep = QUICK
  ? []
  : SWEEP.map(([label, o]) => ({ label, overrides: o, result: runScenario({ seed, ...SWEEP_SIM, ...o }) }));
const runtimeMs = performance.now() - started;

const lines = [
  ...headerLines(result),
  "",
  ...table(comparisonRows(result)),
  "",
  ...goalLines(result),
  "",
  ...detailLines(result),
  ...calibrationLines(calibration),
];
const sweepLines = sweep.length
  ? [
      "",
      `sweep (one parameter changed per row; each row ${int(SWEEP_SIM.sampleUsers)} sampled users, ${SWEEP_SIM.windowS} s window, ${SWEEP_SIM.revocationSamples} revocations):`,
      ...table(sweepRows(sweep)),
    ]
  : [];
for (const line of [...lines, ...sweepLines]) console.log(line);
console.log(`\nruntime ${(runtimeMs / 1000).toFixed(1)} s (Node ${process.version})`);

function int(v) {
  return Math.round(v).toLocaleString("en-US");
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

/** What a row keeps in the JSON: the figures, not the per-second arrays. */
const figures = (r) => ({ world: r.world, today: r.today, recent: r.recent, context: r.context, goals: r.goals });
const json = {
  date: new Date().toISOString(),
  commit: gitCommit(),
  node: process.version,
  runtimeMs: Math.round(runtimeMs),
  seed,
  quick: QUICK,
  params: result.params,
  default: figures(result),
  calibration,
  sweepSimulation: SWEEP_SIM,
  sweep: sweep.map(({ label, overrides: o, result: r }) => ({ label, overrides: o, ...figures(r) })),
  printed: [...lines, ...sweepLines],
};
const text = `${JSON.stringify(json, null, 2)}\n`;
mkdirSync(join(ROOT, "bench", "out"), { recursive: true });
writeFileSync(join(ROOT, "bench", "out", "scale-latest.json"), text);
console.log("wrote bench/out/scale-latest.json");

if (RECORD) {
  writeFileSync(join(ROOT, "bench", "results", "scale-latest.json"), text);
  const docs = join(ROOT, "docs", "benchmarks.md");
  const md = readFileSync(docs, "utf8");
  const start = "<!-- bench:scale -->";
  const end = "<!-- /bench:scale -->";
  const a = md.indexOf(start);
  const b = md.indexOf(end);
  if (a === -1 || b < a) throw new Error(`docs/benchmarks.md has no ${start} … ${end} block`);
  const block = [
    ...table(comparisonRows(result), { markdown: true }),
    "",
    "```text",
    ...goalLines(result),
    ...detailLines(result),
    ...calibrationLines(calibration),
    "```",
    "",
    "Sweep (one parameter changed from the default per row; each row simulated with " +
      `${int(SWEEP_SIM.sampleUsers)} sampled users, a ${SWEEP_SIM.windowS} s window and ${SWEEP_SIM.revocationSamples} revocations):`,
    "",
    ...table(sweepRows(sweep), { markdown: true }),
    "",
    `Recorded ${json.date.slice(0, 16).replace("T", " ")} UTC at commit \`${json.commit}\` (\`npm run bench:scale -- --record\`, ` +
      `seed ${seed}, ${(runtimeMs / 1000).toFixed(1)} s on Node ${process.version}). Every field is in \`bench/results/scale-latest.json\`.`,
  ];
  writeFileSync(docs, `${md.slice(0, a + start.length)}\n${block.join("\n")}\n${md.slice(b)}`);
  console.log("recorded: bench/results/scale-latest.json, the scale block in docs/benchmarks.md");
}
