import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { RATE_LIMITS } from "../../src/config/rate-limits.ts";
import { emulatorBindings } from "../support/config.ts";
import { withoutDanglingSourcemaps } from "../support/dangling-sourcemaps.mjs";
import { proxyGatewayBindings } from "./config.ts";

/**
 * The second test project: the same Worker entry (src/index.ts, wrangler.toml) in proxy
 * mode, in front of a real origin (test/proxy/origin, an auxiliary Worker that records what
 * it receives). That Worker is also the gateway's outbound service and passes calls for
 * Clerk on to the emulator, so the gateway reaches both and nothing else.
 *
 * Only files named `*.proxy.test.ts` run here; the main project excludes them.
 */
export function proxyProject(options: {
  shared: Record<string, unknown>;
  ratelimits: Record<string, unknown>;
  compatibilityDate: string;
}) {
  const { shared, ratelimits, compatibilityDate } = options;
  return {
    test: {
      ...shared,
      name: "proxy",
      globalSetup: ["./test/proxy/global-setup.ts"],
      include: ["test/**/*.proxy.test.ts"],
    },
    plugins: [
      withoutDanglingSourcemaps(),
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: { ...proxyGatewayBindings },
          ratelimits: {
            ...ratelimits,
            // Small enough to reach in a test; used through an env copy, never by the other tests.
            // Namespaces of their own (93xx): the shared table above already uses 90xx to 92xx.
            RL_TEST_PROXY: { namespace_id: "9301", simple: { limit: 3, period: RATE_LIMITS.RL_PROXY.period } },
            RL_TEST_GUARD: { namespace_id: "9303", simple: { limit: 3, period: 60 } },
            RL_TEST_PROXY_AUTH_FAILURES: { namespace_id: "9302", simple: RATE_LIMITS.RL_AUTH_FAILURES },
          },
          outboundService: "test-origin",
          workers: [
            {
              name: "test-origin",
              modules: true,
              scriptPath: "./test/proxy/dist/origin.js",
              compatibilityDate,
              serviceBindings: { CLERK: "clerk-emulator" },
            },
            {
              name: "clerk-emulator",
              modules: true,
              scriptPath: "./test/proxy/dist/emulator.js",
              compatibilityDate,
              bindings: { ...emulatorBindings },
            },
          ],
        },
      }),
    ],
  };
}
