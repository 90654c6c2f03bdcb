import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { LEAK_LOG_ENV } from "./support/secret-scan";

/** Bundles the Clerk emulator so Miniflare can load it as an auxiliary worker. */
export default async function setup() {
  // One file per run; onConsoleLog runs in this same Node process and appends to it.
  const leakLog = join(tmpdir(), `gateway-secret-scan-${process.pid}-${Date.now()}.log`);
  writeFileSync(leakLog, "");
  process.env[LEAK_LOG_ENV] = leakLog;

  await build({
    entryPoints: ["emulator/src/index.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    outfile: "emulator/dist/index.js",
    logLevel: "warning",
  });

  // Teardown: any secret in any log line or gateway response of the whole run fails the run,
  // even if the test that caused it passed (e.g. a log line written after its assertions).
  return () => {
    const findings = existsSync(leakLog) ? readFileSync(leakLog, "utf8").trim() : "";
    rmSync(leakLog, { force: true });
    if (findings) {
      process.exitCode = 1;
      throw new Error(`Secrets appeared in the test run's output (names, never values):\n${findings}`);
    }
  };
}
