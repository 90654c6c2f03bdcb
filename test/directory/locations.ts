import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../src/api/app";
import { type CallOptions, gatewayRequest } from "../support/gateway";

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
