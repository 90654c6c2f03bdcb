import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { type CallOptions, gatewayRequest } from "../support/gateway";
import type { ReceivedRequest } from "./origin/index";

export { DOWN_HOST, ORIGIN_HOST } from "./config";
export type { ReceivedRequest } from "./origin/index";

/** The origin's control endpoint; the test's own fetch lands on the origin Worker as the gateway's does. */
const CONTROL = "https://origin.test/__origin/requests";

/** Every request the origin received since the last clear, oldest first. */
export async function originRequests(): Promise<ReceivedRequest[]> {
  return ((await (await fetch(CONTROL)).json()) as { requests: ReceivedRequest[] }).requests;
}

export async function clearOrigin(): Promise<void> {
  await fetch(CONTROL, { method: "DELETE" });
}

type TestEnv = typeof env & Record<string, RateLimit>;
export const testEnv = env as TestEnv;

/**
 * The Worker entry (src/index.ts) with some bindings changed: how the tests reach the other
 * modes (no base path, no origin, an origin that is down, tight limits) from one project.
 */
export async function sendWith(
  overrides: Record<string, unknown>,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(gatewayRequest(path, options), { ...env, ...overrides } as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export { patternStream } from "./origin/pattern";

/** SHA-256 (hex) and length of a stream, read chunk by chunk. */
export async function digestStream(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hasher = new crypto.DigestStream("SHA-256");
  let bytes = 0;
  await body
    .pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    )
    .pipeTo(hasher);
  const hash = [...new Uint8Array(await hasher.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes, sha256: hash };
}
