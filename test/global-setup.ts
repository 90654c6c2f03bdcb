import { build } from "esbuild";
import { buildWeb } from "../scripts/build-web.mjs";

/**
 * Bundles the Clerk emulator so Miniflare can load it as an auxiliary worker, and builds the
 * static assets (pages, /openapi.json) the gateway serves.
 */
export default async function setup() {
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
}
