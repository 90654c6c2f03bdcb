/** What the other location (location.ts) answers to tests besides the gateway, shared without its side effects. */

/** Test-only: that location's isolate-memory counters (object calls included), read between requests. */
export const MEMORY_PATH = "/__location/memory";
/** Test-only: a request carrying this header sees a revocation log that cannot be reached. */
export const LOG_UNREACHABLE_HEADER = "x-location-log-unreachable";
