import { build } from "esbuild";

/** Bundles the Clerk emulator for Miniflare into this example's dist/ (the other projects bundle their own copy). */
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
    outfile: `${root}examples/hono-app/dist/emulator.js`,
    logLevel: "warning",
  });
}
