import type { TestProject } from "vitest/node";
import { buildWeb } from "../scripts/build-web.mjs";
import { validateOpenApi } from "../scripts/validate-openapi.mjs";
import { quietInjectedDropsForRun } from "./support/quiet-faults";
import { leakFindings } from "./support/secret-scan";
import { bundleWorker } from "./support/worker-bundle";

export interface OpenApiValidation {
  valid: boolean;
  version: string;
  errors: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** public/openapi.json checked by a maintained OpenAPI validator (in Node: it needs Ajv). */
    openapiValidation: OpenApiValidation;
  }
}

/**
 * Bundles the Clerk emulator and a second copy of the gateway (the cross-location tests) so
 * Miniflare can load them as auxiliary workers, builds the
 * static assets the gateway serves (pages, /openapi.json), and validates the OpenAPI document.
 */
export default async function setup(project: TestProject) {
  leakFindings().length = 0;
  const restoreOutput = quietInjectedDropsForRun();
  await Promise.all([
    bundleWorker("emulator/src/index.ts", "emulator/dist/index.js"),
    // The same gateway as a second Worker (another isolate, another "location"): test/directory/.
    bundleWorker("test/directory/location.ts", "test/directory/dist/location.js"),
    buildWeb(),
  ]);
  project.provide("openapiValidation", await validateOpenApi());

  // Teardown: any secret in any log line or gateway response of the whole run fails the run,
  // even if the test that caused it passed (e.g. a log line written after its assertions).
  return () => {
    restoreOutput();
    const findings = leakFindings();
    if (findings.length > 0) {
      // vitest reports a teardown error but would still exit 0: make the run fail.
      process.exitCode = 1;
      throw new Error(`Secrets appeared in the test run's output (names, never values):\n${findings.join("\n")}`);
    }
  };
}
