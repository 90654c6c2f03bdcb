import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../src/api/app";
import { type CallOptions, gatewayRequest } from "../support/gateway";
import { LOG_UNREACHABLE_HEADER, MEMORY_PATH } from "./location-contract";

/**
 * The other gateways of the cross-location tests (vitest.config.ts, test/directory/location.ts):
 * separate Workers, so separate isolates, reached through service bindings.
 */
type Locations = { GATEWAY_B: Fetcher; GATEWAY_KV_ONLY: Fetcher };
const locations = env as unknown as Locations;

/** Gateway B: shares the KV namespace and the SessionDirectory objects; never sees a KV revocation marker. */
export function callB(path: string, options: CallOptions = {}): Promise<Response> {
  return locations.GATEWAY_B.fetch(gatewayRequest(path, options));
}

/** Gateway B's isolate-memory counters: its object calls (directory lookups, log reads) so far. */
export async function countersB(): Promise<{
  memory_directory_reads: number;
  memory_log_reads: number;
  memory_store_reads: number;
}> {
  const response = await locations.GATEWAY_B.fetch(new Request(`https://gateway.test${MEMORY_PATH}`));
  return (await response.json()) as {
    memory_directory_reads: number;
    memory_log_reads: number;
    memory_store_reads: number;
  };
}

/** Gateway B, its revocation log unreachable for this request (its SessionDirectory is fine). */
export function callBWithoutLog(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  headers.set(LOG_UNREACHABLE_HEADER, "true");
  return locations.GATEWAY_B.fetch(gatewayRequest(path, { ...options, headers }));
}

/** A gateway deployed without the SESSION_DIRECTORY binding: KV markers only, same namespace. */
export function callKvOnly(path: string, options: CallOptions = {}): Promise<Response> {
  return locations.GATEWAY_KV_ONLY.fetch(gatewayRequest(path, options));
}

/**
 * This test's own isolate (location A) with other bindings: the same app, built once more, on
 * `bindings` merged over the real ones (e.g. no SESSION_DIRECTORY, or one that cannot be reached).
 * Isolate memory is shared with `call()`: only the bindings differ.
 */
export function callWith(overrides: Partial<Cloudflare.Env>) {
  const app = createApp();
  const bindings = { ...env, ...overrides };
  return async (path: string, options: CallOptions = {}): Promise<Response> => {
    const ctx = createExecutionContext();
    const response = await app.fetch(gatewayRequest(path, options), bindings, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}
