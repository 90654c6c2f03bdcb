import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_SECRET_KEY, TEST_SERVICE_KEYS, TEST_WEBHOOK_SECRET } from "../support/config";
import { SEED } from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";
import { call, callWith, SERVICE_KEY } from "../support/gateway";
import { findSecrets } from "../support/secret-scan";

/**
 * Neither Clerk's secret key nor a service key (nor the webhook secret) ever appears in a
 * response or a log line. The whole suite is scanned (test/support/secret-scan.setup.ts for
 * responses, the reporter in vitest.config.ts for logs, failing the run in global teardown);
 * this file checks the scanner itself and drives the paths most likely to leak, capturing
 * their log lines directly.
 */

useFreshWorld();
const { lines: logs } = captureConsole({ print: false });

async function text(response: Response) {
  const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return `${response.status}\n${headers}\n${await response.text()}`;
}

const send = callWith;

describe("the scanner finds every secret, in every form it checks", () => {
  it("detects each secret raw and encoded, and nothing in clean text", () => {
    expect(findSecrets(`Bearer ${TEST_SECRET_KEY}`)).toEqual(["CLERK_SECRET_KEY"]);
    expect(findSecrets(btoa(TEST_SECRET_KEY))).toEqual(["CLERK_SECRET_KEY"]);
    expect(findSecrets(JSON.stringify({ k: TEST_SERVICE_KEYS[1] }))).toEqual(["GATEWAY_API_KEYS[1]"]);
    expect(findSecrets(TEST_WEBHOOK_SECRET.slice(6))).toEqual(["CLERK_WEBHOOK_SIGNING_SECRET"]);
    expect(findSecrets('{"level":"info","msg":"request","service_key":0}')).toEqual([]);
  });

  it("is installed on the gateway for every test file", () => {
    expect((globalThis as { __gatewaySecretScan?: boolean }).__gatewaySecretScan).toBe(true);
  });
});

describe("no secret in responses or log lines, on the paths most likely to leak one", () => {
  it("Clerk refusing the gateway's secret key: a 502 that names nothing", async () => {
    const wrongKey = "sk_test_notTheEmulatorsKey0000000000000000000";
    const response = await send(
      `/v1/sessions/${SEED.sessions.aliceDesktop.id}`,
      { serviceKey: SERVICE_KEY },
      {
        ...env,
        CLERK_SECRET_KEY: wrongKey,
      },
    );
    expect(response.status).toBe(502);
    const all = `${await text(response)}\n${logs.join("\n")}`;
    expect(all).not.toContain(wrongKey);
    expect(findSecrets(all)).toEqual([]);
  });

  it("a malformed secret setting: a 500 naming the setting, never its value", async () => {
    const badKey = "sk_test_has a space in it";
    const response = await send("/healthz", {}, { ...env, CLERK_SECRET_KEY: badKey, GATEWAY_API_KEYS: "short" });
    const body = await text(response);
    expect(response.status).toBe(500);
    expect(body).toContain("CLERK_SECRET_KEY");
    expect(body).not.toContain(badKey);
    const keys = await send("/healthz", {}, { ...env, GATEWAY_API_KEYS: `${TEST_SECRET_KEY},${TEST_SERVICE_KEYS[0]}` });
    const keysBody = await text(keys);
    expect(keysBody).toContain("GATEWAY_API_KEYS");
    expect(findSecrets(`${keysBody}\n${logs.join("\n")}`)).toEqual([]);
  });

  it("service keys that almost match, in every place a caller might put one", async () => {
    const near = `${TEST_SERVICE_KEYS[0].slice(0, -1)}X`;
    const responses = await Promise.all([
      call("/v1/sessions", { serviceKey: near }),
      call(`/v1/sessions?user_id=${encodeURIComponent(TEST_SERVICE_KEYS[0])}`, { serviceKey: SERVICE_KEY }),
      call("/v1/sessions", { method: "POST", serviceKey: SERVICE_KEY, json: { user_id: TEST_SERVICE_KEYS[1] } }),
      call("/v1/me/sessions/active", { cookie: TEST_SERVICE_KEYS[0] }),
      call("/webhooks/clerk", {
        method: "POST",
        headers: { "svix-id": "msg_x", "svix-timestamp": "1", "svix-signature": TEST_WEBHOOK_SECRET },
        body: "{}",
      }),
    ]);
    for (const response of responses) expect(response.status).toBeGreaterThanOrEqual(400);
    const all = (await Promise.all(responses.map(text))).join("\n");
    expect(findSecrets(all)).toEqual([]);
    expect(findSecrets(logs.join("\n"))).toEqual([]);
    expect(logs.length).toBeGreaterThanOrEqual(5);
  });
});
