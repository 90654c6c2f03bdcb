import { build } from "esbuild";

/** Bundles the Clerk emulator for Miniflare, as the gateway's own suite does (test/global-setup.ts). */
export default async function setup() {
  const root = decodeURIComponent(new URL("../../../", import.meta.url).pathname);
  await build({
    entryPoints: [`${root}emulator/src/index.ts`],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    outfile: `${root}emulator/dist/index.js`,
    logLevel: "warning",
  });
}
