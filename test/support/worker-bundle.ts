/**
 * @module
 * How the test setups bundle an auxiliary Worker (the Clerk emulator, the proxy's recording
 * origin) for Miniflare: one ES module, resolved for workerd. Runs in Node (global setup).
 */
import { build } from "esbuild";

export function bundleWorker(entryPoint: string, outfile: string) {
  return build({
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    // Runtime modules (a copy of the gateway imports cloudflare:workers) are workerd's own.
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
}
