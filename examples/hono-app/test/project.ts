import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { emulatorBindings, gatewayBindings } from "../../../test/support/config.ts";
import { withoutDanglingSourcemaps } from "../../../test/support/dangling-sourcemaps.mjs";

/**
 * The example app's test project (vitest.config.ts at the repository root lists it beside the
 * gateway's): the app Worker as its own wrangler.toml configures it, in workerd, against the
 * Clerk emulator. The package is resolved to its source, so these tests need no build;
 * scripts/pack-check.mjs runs the same app against the packed tarball.
 */

// A file path from this folder (no node:url: the repository's type-check has no Node types).
const here = (path: string) => decodeURIComponent(new URL(path, import.meta.url).pathname);
const unreachable = { limit: 1_000_000, period: 60 } as const;

export function exampleProject(options: { shared: Record<string, unknown>; compatibilityDate: string }) {
  const { shared, compatibilityDate } = options;
  return {
    root: here(".."),
    resolve: {
      alias: [
        { find: /^clerk-session-gateway\/hono$/, replacement: here("../../../src/hono/index.ts") },
        { find: /^clerk-session-gateway\/openapi$/, replacement: here("../../../src/openapi-document.ts") },
        { find: /^clerk-session-gateway$/, replacement: here("../../../src/package.ts") },
      ],
    },
    test: {
      ...shared,
      name: "example",
      globalSetup: [here("./global-setup.ts")],
      // Every response of the app (its routes and the mounted gateway) is scanned for the suite's secrets.
      setupFiles: [here("../../../test/support/secret-scan.setup.ts")],
      include: ["test/**/*.test.ts"],
    },
    plugins: [
      withoutDanglingSourcemaps(),
      cloudflareTest({
        wrangler: { configPath: here("../wrangler.toml") },
        miniflare: {
          bindings: { ...gatewayBindings },
          // The app's own names for the gateway's limiters, with limits no test reaches.
          ratelimits: {
            AUTH_FAILURE_LIMIT: { namespace_id: "9302", simple: unreachable },
            USER_WRITE_LIMIT: { namespace_id: "9301", simple: unreachable },
            CLERK_DEV_LIMIT: { namespace_id: "9304", simple: unreachable },
            CLERK_PROD_LIMIT: { namespace_id: "9303", simple: unreachable },
          },
          outboundService: "clerk-emulator",
          workers: [
            {
              name: "clerk-emulator",
              modules: true,
              scriptPath: here("../dist/emulator.js"),
              // Module names must not climb out of the modules root (this project's root is the example).
              modulesRoot: here("../dist"),
              compatibilityDate,
              bindings: { ...emulatorBindings },
            },
          ],
        },
      }),
    ],
  };
}
