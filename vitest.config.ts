import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { emulatorBindings, gatewayBindings } from "./test/support/config";

const compatibilityDate = "2026-10-01";

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
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
