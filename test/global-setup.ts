import { build } from "esbuild";
import { leakFindings } from "./support/secret-scan";

/** Bundles the Clerk emulator so Miniflare can load it as an auxiliary worker. */
export default async function setup() {
  leakFindings().length = 0;
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
    const findings = leakFindings();
    if (findings.length > 0) {
      // vitest reports a teardown error but would still exit 0: make the run fail.
      process.exitCode = 1;
      throw new Error(`Secrets appeared in the test run's output (names, never values):\n${findings.join("\n")}`);
    }
  };
}
