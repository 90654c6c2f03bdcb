import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { emulatorBindings, gatewayBindings } from "../../test/support/config.ts";

/**
 * The example app's tests, in workerd, against the Clerk emulator (as the gateway's own suite).
 * The package is resolved to its source, so these tests need no build; scripts/pack-check.mjs
 * runs the same app against the packed tarball.
 */
// A file path from this config's folder (no node:url: the repository's type-check has no Node types).
const here = (path: string) => decodeURIComponent(new URL(path, import.meta.url).pathname);
const unreachable = { limit: 1_000_000, period: 60 } as const;

export default defineConfig({
  root: here("."),
  resolve: {
    alias: [
      { find: /^clerk-session-gateway\/hono$/, replacement: here("../../src/hono/index.ts") },
      { find: /^clerk-session-gateway\/openapi$/, replacement: here("../../src/openapi-document.ts") },
      { find: /^clerk-session-gateway$/, replacement: here("../../src/package.ts") },
    ],
  },
  test: {
    name: "example",
    globalSetup: [here("./test/global-setup.ts")],
    // Every response of the app (its routes and the mounted gateway) is scanned for the suite's secrets.
    setupFiles: [here("../../test/support/secret-scan.setup.ts")],
    include: ["test/**/*.test.ts"],
    silent: "passed-only",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
  plugins: [
    cloudflareTest({
      wrangler: { configPath: here("./wrangler.toml") },
      miniflare: {
        bindings: { ...gatewayBindings },
        // The app's own names for the gateway's limiters, with limits no test reaches.
        ratelimits: {
          AUTH_FAILURE_LIMIT: { namespace_id: "9202", simple: unreachable },
          USER_WRITE_LIMIT: { namespace_id: "9201", simple: unreachable },
          CLERK_DEV_LIMIT: { namespace_id: "9204", simple: unreachable },
          CLERK_PROD_LIMIT: { namespace_id: "9203", simple: unreachable },
        },
        outboundService: "clerk-emulator",
        workers: [
          {
            name: "clerk-emulator",
            modules: true,
            scriptPath: here("../../emulator/dist/index.js"),
            // Module names must not climb out of the modules root (this config's root is the example).
            modulesRoot: here("../../emulator/dist"),
            compatibilityDate: "2026-10-01",
            bindings: { ...emulatorBindings },
          },
        ],
      },
    }),
  ],
});
