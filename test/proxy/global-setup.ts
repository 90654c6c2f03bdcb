import { type BuildOptions, build } from "esbuild";

/**
 * Bundles the two auxiliary Workers of the proxy project: the recording origin and the
 * Clerk emulator (a copy of its own, so the two projects' setups never write one file).
 */
export default async function setup() {
  const common: BuildOptions = {
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    logLevel: "warning",
  };
  await Promise.all([
    build({ ...common, entryPoints: ["test/proxy/origin/index.ts"], outfile: "test/proxy/dist/origin.js" }),
    build({ ...common, entryPoints: ["emulator/src/index.ts"], outfile: "test/proxy/dist/emulator.js" }),
  ]);
}
