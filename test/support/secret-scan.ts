/**
 * The secrets the test suite runs with, and a scanner for them. Used in Node (vitest.config.ts
 * `onConsoleLog`, test/global-setup.ts) and in workerd (test/support/secret-scan.setup.ts, which
 * scans every gateway response). Nothing here ever prints a secret: findings are secret *names*.
 */
import { TEST_ASSERTION_NEXT_KEY, TEST_ASSERTION_SIGNING_KEY } from "../proxy/config.ts";
import { TEST_SECRET_KEY, TEST_SERVICE_KEYS, TEST_WEBHOOK_SECRET } from "./config.ts";

/**
 * Findings of the whole run, by name. vitest.config.ts's reporter and test/global-setup.ts's
 * teardown both run in vitest's main Node process, so a process-wide list connects them.
 */
export function leakFindings(): string[] {
  const store = globalThis as { __gatewaySecretFindings?: string[] };
  store.__gatewaySecretFindings ??= [];
  return store.__gatewaySecretFindings;
}

/** Printed (with the secret's name and where it was seen, never its value) when a response leaks one. */
export const LEAK_MARKER = "SECRET_SCAN_LEAK";

const base64 = (value: string) => btoa(value).replace(/=+$/, "");

/** Each secret, and the encodings a careless log line or header would carry it in. */
const SECRETS: ReadonlyArray<{ name: string; forms: string[] }> = [
  { name: "CLERK_SECRET_KEY", forms: [TEST_SECRET_KEY, base64(TEST_SECRET_KEY), encodeURIComponent(TEST_SECRET_KEY)] },
  ...TEST_SERVICE_KEYS.map((key, index) => ({
    name: `GATEWAY_API_KEYS[${index}]`,
    forms: [key, base64(key)],
  })),
  {
    name: "CLERK_WEBHOOK_SIGNING_SECRET",
    // The whole `whsec_…` value, and the base64 HMAC key after the prefix on its own.
    forms: [TEST_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET.slice("whsec_".length)],
  },
  // ORIGIN_SHARED_SECRET is left out: the proxy tests' origin echoes what it received, the secret included.
  {
    name: "ORIGIN_ASSERTION_KEYS",
    forms: [TEST_ASSERTION_SIGNING_KEY.d, TEST_ASSERTION_NEXT_KEY.d],
  },
];

/** Names of the secrets that occur in `text`, in any of their forms. */
export function findSecrets(text: string): string[] {
  return SECRETS.filter((secret) => secret.forms.some((form) => text.includes(form))).map((secret) => secret.name);
}
