/**
 * Proxy-mode configuration of the second test project (test/proxy/project.ts), shared with
 * the tests that run in it. Test values only: none of them opens anything real.
 */
import { gatewayBindings } from "../support/config.ts";

/** The origin Worker answers for this host and its subdomains (test/proxy/origin). */
export const ORIGIN_HOST = "origin.test";
/** A host under it whose "server" drops every connection. */
export const DOWN_HOST = "down.origin.test";
export const ORIGIN_URL = `https://${ORIGIN_HOST}`;
export const TEST_ORIGIN_SECRET = "origin_shared_secret_for_tests_7c1d9e";
export const TEST_BASE_PATH = "/clerk";
export const TEST_PUBLIC_PATHS = ["/public", "/assets/static"] as const;
export const TEST_ORIGIN_TIMEOUT_MS = 1_000;

/** The gateway in proxy mode: the main suite's settings plus the proxy's. */
export const proxyGatewayBindings = {
  ...gatewayBindings,
  ORIGIN_URL,
  PUBLIC_PATHS: TEST_PUBLIC_PATHS.join(","),
  GATEWAY_BASE_PATH: TEST_BASE_PATH,
  ORIGIN_SHARED_SECRET: TEST_ORIGIN_SECRET,
  ORIGIN_TIMEOUT_MS: String(TEST_ORIGIN_TIMEOUT_MS),
  BAPI_PASSTHROUGH: "users,organizations",
} as const;
