/**
 * Runs in workerd before every test file: every response the gateway gives any test — through
 * `call()`, the @clerk/backend stub, or `exports.default.fetch` directly — is scanned for the
 * suite's secrets (status line, headers and body). A leak fails the test at once and prints a
 * marker line that vitest.config.ts collects, so the whole run fails too (test/global-setup.ts).
 */
import { exports } from "cloudflare:workers";
import { findSecrets, LEAK_MARKER } from "./secret-scan";

type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
const gateway = exports.default as unknown as { fetch: FetchLike };
// A flag on globalThis, not on the stub: any property read on an RPC stub is truthy.
const installed = globalThis as { __gatewaySecretScan?: boolean };

if (installed.__gatewaySecretScan !== true) {
  const original = gateway.fetch.bind(gateway);
  gateway.fetch = async (input, init) => {
    const response = await original(input, init);
    const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
    const body = await response.clone().text();
    const leaked = findSecrets(`${response.statusText}\n${headers}\n${body}`);
    if (leaked.length > 0) {
      // The URL is not printed: a test may have put a secret in it on purpose.
      const method = new Request(input, init).method;
      console.error(`${LEAK_MARKER} ${JSON.stringify({ where: "response", method, secrets: leaked })}`);
      throw new Error(`A gateway response (${method}) contains ${leaked.join(", ")}`);
    }
    return response;
  };
  installed.__gatewaySecretScan = true;
}
