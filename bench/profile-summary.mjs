#!/usr/bin/env node
/**
 * Reads a V8 CPU profile taken by `BENCH_PROFILE=<scenario> npm run bench` and prints where
 * the samples went, mapped back through the bundle's source map to the original files and
 * functions (the bundle is minified: its own names say nothing).
 *
 *   node bench/profile-summary.mjs bench/out/cached.cpuprofile [bench/dist/gateway/index.js.map] [--top 25]
 *
 * Prints self time by function, self time by source file (package or src/ file), and
 * inclusive time of the gateway's own functions, each as a share of the busy samples
 * (idle and the profiler's own "(program)" excluded from the denominator, shown apart).
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { relative, resolve } from "node:path";
import { ROOT } from "./bundle-size.mjs";

const args = process.argv.slice(2);
const topIndex = args.indexOf("--top");
const TOP = topIndex === -1 ? 25 : Number(args[topIndex + 1]);
const [profileFile, mapFile = "bench/dist/gateway/index.js.map"] = args.filter(
  (a, i) => !a.startsWith("--") && (topIndex === -1 || i !== topIndex + 1),
);
if (!profileFile) {
  console.error("usage: node bench/profile-summary.mjs <file.cpuprofile> [bundle.js.map] [--top N]");
  process.exit(2);
}

const profile = JSON.parse(readFileSync(profileFile, "utf8"));
const mapPath = resolve(mapFile);
const map = new SourceMap(JSON.parse(readFileSync(mapPath, "utf8")));
const bundleDir = resolve(mapPath, "..");

/** "hono/dist/…", "src/storage/…", or the runtime's own frames. */
function place(frame) {
  const { url, lineNumber, columnNumber, functionName } = frame;
  if (!url || lineNumber < 0) return { fn: functionName || "(anonymous)", file: `(${functionName || "runtime"})` };
  const entry = map.findEntry(lineNumber, columnNumber);
  if (!entry?.originalSource) return { fn: functionName || "(anonymous)", file: "(bundle)" };
  let file = relative(ROOT, resolve(bundleDir, entry.originalSource));
  const nm = file.lastIndexOf("node_modules/");
  if (nm !== -1) file = file.slice(nm + "node_modules/".length);
  const name = entry.name || functionName || "(anonymous)";
  return { fn: `${name} (${file}:${entry.originalLine + 1})`, file };
}

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfCount = new Map();
for (const id of profile.samples) selfCount.set(id, (selfCount.get(id) ?? 0) + 1);

const special = { "(idle)": 0, "(program)": 0, "(garbage collector)": 0 };
const byFn = new Map();
const byFile = new Map();
const inclusive = new Map();
let busy = 0;
for (const [id, count] of selfCount) {
  const node = nodes.get(id);
  const name = node.callFrame.functionName;
  if (name === "(idle)" || name === "(program)") {
    special[name] += count;
    continue;
  }
  if (name === "(garbage collector)") special[name] += count;
  busy += count;
  const p = place(node.callFrame);
  byFn.set(p.fn, (byFn.get(p.fn) ?? 0) + count);
  byFile.set(p.file, (byFile.get(p.file) ?? 0) + count);
  // Inclusive: every distinct src/ function on the stack gets the sample once.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const q = place(nodes.get(cur).callFrame);
    if (!q.file.startsWith("src/") || seen.has(q.fn)) continue;
    seen.add(q.fn);
    inclusive.set(q.fn, (inclusive.get(q.fn) ?? 0) + count);
  }
}

const pct = (n) => `${((100 * n) / Math.max(busy, 1)).toFixed(1).padStart(5)}%`;
const top = (m, n = TOP) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
const total = profile.samples.length;
console.log(
  `${total} samples; busy ${busy} (${((100 * busy) / total).toFixed(1)}%), idle ${special["(idle)"]}, ` +
    `(program) ${special["(program)"]}, of busy: garbage collector ${pct(special["(garbage collector)"]).trim()}`,
);
console.log("\nSELF by source file (share of busy samples)");
for (const [k, v] of top(byFile, 20)) console.log(`${pct(v)}  ${k}`);
console.log("\nSELF by function");
for (const [k, v] of top(byFn)) console.log(`${pct(v)}  ${k}`);
console.log("\nINCLUSIVE, the gateway's own functions (src/)");
for (const [k, v] of top(inclusive)) console.log(`${pct(v)}  ${k}`);
