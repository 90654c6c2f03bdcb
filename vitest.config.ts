import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { exampleProject } from "./examples/hono-app/test/project.ts";
import { RATE_LIMITS } from "./src/config/rate-limits.ts";
import { proxyProject } from "./test/proxy/project.ts";
import { emulatorBindings, gatewayBindings } from "./test/support/config.ts";
import { withoutDanglingSourcemaps } from "./test/support/dangling-sourcemaps.mjs";
import { findSecrets, LEAK_MARKER, leakFindings } from "./test/support/secret-scan.ts";

const compatibilityDate = "2026-10-01";
/** wrangler.toml's SESSION_CACHE id: Workers bound to the same id share one namespace. */
const KV_NAMESPACE_ID = "00000000000000000000000000000000";

/**
 * Rate limits in tests. The whole suite is one Clerk instance and one client IP, spread over
 * many files running in parallel, so the gateway's own bindings get limits no suite could reach
 * (a test would otherwise fail because another file spent the budget). The real numbers are
 * tested in test/security/rate-limits.test.ts, on RL_TEST_* bindings declared from the same
 * constants wrangler.toml is checked against.
 */
const unreachable = { limit: 1_000_000, period: 60 } as const;
const ratelimits = {
  RL_USER_WRITES: { namespace_id: "9001", simple: unreachable },
  RL_AUTH_FAILURES: { namespace_id: "9002", simple: unreachable },
  RL_UPSTREAM_PRODUCTION: { namespace_id: "9003", simple: unreachable },
  RL_UPSTREAM_DEVELOPMENT: { namespace_id: "9004", simple: unreachable },
  RL_UPSTREAM_READS_PRODUCTION: { namespace_id: "9005", simple: unreachable },
  RL_UPSTREAM_READS_DEVELOPMENT: { namespace_id: "9006", simple: unreachable },
  RL_UPSTREAM_CALLER_PRODUCTION: { namespace_id: "9007", simple: unreachable },
  RL_UPSTREAM_CALLER_DEVELOPMENT: { namespace_id: "9008", simple: unreachable },
  RL_PROXY: { namespace_id: "9009", simple: unreachable },
  RL_TEST_USER_WRITES: { namespace_id: "9101", simple: RATE_LIMITS.RL_USER_WRITES },
  RL_TEST_AUTH_FAILURES: { namespace_id: "9102", simple: RATE_LIMITS.RL_AUTH_FAILURES },
  RL_TEST_UPSTREAM_PRODUCTION: { namespace_id: "9103", simple: RATE_LIMITS.RL_UPSTREAM_PRODUCTION },
  RL_TEST_UPSTREAM_DEVELOPMENT: { namespace_id: "9104", simple: RATE_LIMITS.RL_UPSTREAM_DEVELOPMENT },
  RL_TEST_UPSTREAM_READS_PRODUCTION: { namespace_id: "9105", simple: RATE_LIMITS.RL_UPSTREAM_READS_PRODUCTION },
  RL_TEST_UPSTREAM_READS_DEVELOPMENT: { namespace_id: "9106", simple: RATE_LIMITS.RL_UPSTREAM_READS_DEVELOPMENT },
  RL_TEST_UPSTREAM_CALLER_PRODUCTION: { namespace_id: "9107", simple: RATE_LIMITS.RL_UPSTREAM_CALLER_PRODUCTION },
  RL_TEST_UPSTREAM_CALLER_DEVELOPMENT: { namespace_id: "9108", simple: RATE_LIMITS.RL_UPSTREAM_CALLER_DEVELOPMENT },
  // The red-team suite's own namespaces at the same numbers: its bursts must not share windows
  // with rate-limits.test.ts, which may run at the same time and spends the same keys.
  RL_RED_TEAM_USER_WRITES: { namespace_id: "9201", simple: RATE_LIMITS.RL_USER_WRITES },
  RL_RED_TEAM_AUTH_FAILURES: { namespace_id: "9202", simple: RATE_LIMITS.RL_AUTH_FAILURES },
  RL_RED_TEAM_UPSTREAM_DEVELOPMENT: { namespace_id: "9204", simple: RATE_LIMITS.RL_UPSTREAM_DEVELOPMENT },
  RL_RED_TEAM_UPSTREAM_READS_DEVELOPMENT: {
    namespace_id: "9206",
    simple: RATE_LIMITS.RL_UPSTREAM_READS_DEVELOPMENT,
  },
  RL_RED_TEAM_UPSTREAM_CALLER_DEVELOPMENT: {
    namespace_id: "9208",
    simple: RATE_LIMITS.RL_UPSTREAM_CALLER_DEVELOPMENT,
  },
};

const GATEWAY_PROJECT = "gateway";
/** The Worker the gateway project's tests run in (the plugin names it after the project): it hosts the SessionDirectory class. */
const MAIN_WORKER = `vitest-plugin-runner-${GATEWAY_PROJECT}`;
const otherLocation = {
  modules: true,
  scriptPath: "./test/directory/dist/location.js",
  compatibilityDate,
  kvNamespaces: { SESSION_CACHE: KV_NAMESPACE_ID },
  ratelimits,
  outboundService: "clerk-emulator",
} as const;

const secretScanReporter = {
  onUserConsoleLog(log: { content: string }) {
    const leaked = findSecrets(log.content);
    const marked = log.content.includes(LEAK_MARKER);
    if (leaked.length === 0 && !marked) return;
    leakFindings().push(
      marked ? log.content.slice(log.content.indexOf(LEAK_MARKER)).trim() : `a log line contains ${leaked.join(", ")}`,
    );
  },
};

/** What every project shares; each project adds its own Worker config and global setup. */
const shared = {
  setupFiles: ["./test/support/secret-scan.setup.ts"],
  // Ceilings against hangs, not timings: the first test of a file parses Clerk's OpenAPI
  // spec and the emulator generates its RSA key, which takes seconds on a busy 2-core machine.
  testTimeout: 30_000,
  hookTimeout: 60_000,
} as const;

/** The gateway as wrangler.toml configures it (everything but the proxy-mode files). */
const gatewayProject = {
  test: {
    ...shared,
    name: GATEWAY_PROJECT,
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "test/**/*.proxy.test.ts", "test/unit/**"],
  },
  plugins: [
    withoutDanglingSourcemaps(),
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { ...gatewayBindings },
        ratelimits,
        // Every outbound fetch() of the gateway (and of the tests) lands on the emulator:
        // no test can reach the real network, whatever URL it builds.
        outboundService: "clerk-emulator",
        // Two more gateways, each its own Worker and isolate ("another location"), built from the
        // same source by global setup (test/directory/location.ts). Both share the KV namespace;
        // GATEWAY_B also shares the SessionDirectory and RevocationLog objects and its KV reads never
        // see revocation markers (KV not propagated yet); GATEWAY_KV_ONLY has no Durable Object binding.
        serviceBindings: { GATEWAY_B: "gateway-b", GATEWAY_KV_ONLY: "gateway-kv-only" },
        workers: [
          {
            name: "clerk-emulator",
            modules: true,
            scriptPath: "./emulator/dist/index.js",
            compatibilityDate,
            bindings: { ...emulatorBindings },
          },
          {
            ...otherLocation,
            name: "gateway-b",
            bindings: { ...gatewayBindings, LOCATION_KV_NEVER_PROPAGATES: "true" },
            durableObjects: {
              SESSION_DIRECTORY: { className: "SessionDirectory", scriptName: MAIN_WORKER, useSQLite: true },
              REVOCATION_LOG: { className: "RevocationLog", scriptName: MAIN_WORKER, useSQLite: true },
            },
          },
          { ...otherLocation, name: "gateway-kv-only", bindings: { ...gatewayBindings } },
        ],
      },
    }),
  ],
};

export default defineConfig({
  test: {
    // Every console line of the whole run (gateway, emulator and tests) is scanned for the suite's
    // secrets by a reporter (onConsoleLog is skipped for passing tests under "passed-only"); a
    // finding (a name, never the value) is recorded and fails the run in global teardown.
    reporters: ["default", secretScanReporter],
    // Every request logs a JSON line; show console output only for tests that fail.
    silent: "passed-only",
    projects: [
      // Pure rules (the engine's order, parsers, claims), in Node without workerd: seconds, not minutes.
      {
        test: { name: "unit", include: ["test/unit/**/*.unit.test.ts"], environment: "node" },
        resolve: {
          alias: { "cloudflare:workers": new URL("./test/unit/cloudflare-workers.ts", import.meta.url).pathname },
        },
      },
      gatewayProject,
      proxyProject({ shared, ratelimits, compatibilityDate }),
      exampleProject({ shared, compatibilityDate }),
    ],
  },
});
