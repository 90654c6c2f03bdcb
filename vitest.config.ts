import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { emulatorBindings, gatewayBindings } from "./test/support/config.ts";

const compatibilityDate = "2026-10-01";

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    // Every request logs a JSON line; show console output only for tests that fail.
    silent: "passed-only",
    // Ceilings against hangs, not timings: the first test of a file parses Clerk's OpenAPI
    // spec and the emulator generates its RSA key, which takes seconds on a busy 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { ...gatewayBindings },
        // Every outbound fetch() of the gateway (and of the tests) lands on the emulator:
        // no test can reach the real network, whatever URL it builds.
        outboundService: "clerk-emulator",
        workers: [
          {
            name: "clerk-emulator",
            modules: true,
            scriptPath: "./emulator/dist/index.js",
            compatibilityDate,
            bindings: { ...emulatorBindings },
          },
        ],
      },
    }),
  ],
});
