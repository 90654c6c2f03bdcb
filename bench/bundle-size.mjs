#!/usr/bin/env node
/**
 * Bundle budget: the minified gateway Worker, gzipped, must stay within BUDGET_BYTES.
 *
 *   node bench/bundle-size.mjs            build with `wrangler deploy --dry-run --minify`, measure, exit 1 if over
 *   node bench/bundle-size.mjs --no-build measure bench/dist/gateway/index.js as built (used by `npm run bench`)
 *
 * The figure is gzip level 9 of the one module wrangler emits (what `wrangler deploy` uploads).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BUDGET_BYTES = 64 * 1024;
export const GATEWAY_OUT = join(ROOT, "bench", "dist", "gateway");

/** `wrangler deploy --dry-run --minify` of one wrangler.toml into `outdir` (offline). */
export function buildWorker(config, outdir) {
  const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const result = spawnSync(
    process.execPath,
    [wrangler, "deploy", "--dry-run", "--minify", "--outdir", outdir, "-c", config],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      encoding: "utf8",
    },
  );
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error(`wrangler could not build ${config}`);
  }
  return join(outdir, "index.js");
}

export function measure(file = join(GATEWAY_OUT, "index.js")) {
  const code = readFileSync(file);
  const gzip = gzipSync(code, { level: 9 }).length;
  return {
    file,
    minifiedBytes: code.length,
    gzipBytes: gzip,
    budgetBytes: BUDGET_BYTES,
    withinBudget: gzip <= BUDGET_BYTES,
  };
}

export const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

export function describe(size) {
  return `bundle: ${kib(size.minifiedBytes)} minified, ${kib(size.gzipBytes)} gzip (budget ${kib(size.budgetBytes)} gzip: ${size.withinBudget ? "ok" : "OVER"})`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes("--no-build")) buildWorker("wrangler.toml", GATEWAY_OUT);
  const size = measure();
  console.log(describe(size));
  if (!size.withinBudget) {
    console.error(
      `The minified gateway is ${kib(size.gzipBytes)} gzip, over the ${kib(BUDGET_BYTES)} budget (docs/benchmarks.md).`,
    );
    process.exit(1);
  }
}
