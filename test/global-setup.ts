import { build } from "esbuild";
import type { TestProject } from "vitest/node";
import { buildWeb } from "../scripts/build-web.mjs";
import { validateOpenApi } from "../scripts/validate-openapi.mjs";

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
 * Bundles the Clerk emulator so Miniflare can load it as an auxiliary worker, builds the
 * static assets the gateway serves (pages, /openapi.json), and validates the OpenAPI document.
 */
export default async function setup(project: TestProject) {
  await Promise.all([
    build({
      entryPoints: ["emulator/src/index.ts"],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      outfile: "emulator/dist/index.js",
      logLevel: "warning",
    }),
    buildWeb(),
  ]);
  project.provide("openapiValidation", await validateOpenApi());
}
