import { build } from "esbuild";

/** Bundles the Clerk emulator so Miniflare can load it as an auxiliary worker. */
export default async function setup() {
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
}
