#!/usr/bin/env node
/**
 * `npm run bench`: the gateway against honest floors, in one run. Builds every Worker
 * (runtime.mjs), runs the scenarios in interleaved rounds (scenarios.mjs), prints the table
 * and the labelled ratios and writes the result (report.mjs). Knobs and flags: config.mjs.
 * Method and the latest recorded run: docs/benchmarks.md.
 */
import { cpus, totalmem } from "node:os";
import { describe as describeBundle, measure } from "./bundle-size.mjs";
import { HERD_USERS, ONLY, QUICK } from "./config.mjs";
import { loadAverage, report } from "./report.mjs";
import { buildAll, probe, startRuntime, url } from "./runtime.mjs";
import { herdScenario, revokeScenario, runRounds, scenarioSpecs, setUp, setupLine } from "./scenarios.mjs";

const loadAtStart = loadAverage();
console.log(
  `building the Workers (wrangler deploy --dry-run --minify) …${QUICK ? "  [quick run: measures little, proves the bench works]" : ""}`,
);
const { scripts, oursUnavailable } = buildAll();
const bundle = measure(scripts.gateway);
console.log(describeBundle(bundle));

const { mf, stop } = startRuntime(scripts);
let exitCode = 0;
try {
  await mf.ready;
  await probe(url("gateway", "/healthz"));
  await probe(url("emulator", "/__dev/users"));
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; ` +
      `load average ${loadAtStart.join(" / ")}; server and load generator share the cores`,
  );
  console.log(setupLine());
  const specs = scenarioSpecs({ oursUnavailable });
  const users = await setUp();
  const runs = await runRounds(specs, users);
  const herd = !ONLY || ONLY.has("herd") ? (HERD_USERS > 0 ? await herdScenario() : null) : null;
  const revoke = !ONLY || ONLY.has("revoke") ? await revokeScenario() : null;
  report({ specs, runs, herd, revoke, bundle, loadAtStart });
} catch (error) {
  console.error(error);
  exitCode = 1;
}
await stop(exitCode);
