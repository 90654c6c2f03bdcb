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
/** ORIGIN_ASSERTION_KEYS of the tests: an Ed25519 key that signs, then a P-256 key published beside it (a rotation). */
export const TEST_ASSERTION_SIGNING_KEY = {
  crv: "Ed25519",
  d: "nw0T0U_J3WRJokciIEm24e4ulM8prn3sikenpehKjO0",
  x: "9iNtm1ONAmEJDcR2sQu5K9HR7emR5xFQdCisE3jEQSM",
  kty: "OKP",
} as const;
export const TEST_ASSERTION_NEXT_KEY = {
  kty: "EC",
  x: "jQbHFmTgokSYh1f6Wk0tlqqYBE6yXb0azxYNR7WKo7o",
  y: "3Fc_h1kVwRblleIOELDjIyJh_Kx2iWgmaLHY78vEO-c",
  crv: "P-256",
  d: "cDyw81FF0P2y0_gV_kxyRcEzYXVppcTDjUYjQ35Mw4Y",
} as const;

/** The gateway in proxy mode: the main suite's settings plus the proxy's. */
export const proxyGatewayBindings = {
  ...gatewayBindings,
  ORIGIN_URL,
  PUBLIC_PATHS: TEST_PUBLIC_PATHS.join(","),
  GATEWAY_BASE_PATH: TEST_BASE_PATH,
  ORIGIN_SHARED_SECRET: TEST_ORIGIN_SECRET,
  ORIGIN_ASSERTION_KEYS: JSON.stringify([TEST_ASSERTION_SIGNING_KEY, TEST_ASSERTION_NEXT_KEY]),
  ORIGIN_TIMEOUT_MS: String(TEST_ORIGIN_TIMEOUT_MS),
  BAPI_PASSTHROUGH: "users,organizations",
} as const;
