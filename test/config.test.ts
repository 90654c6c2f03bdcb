import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import type { Bindings } from "../src/env";
import { emulatorCalls, freshToken, SEED } from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { errorBody, gatewayRequest, SERVICE_KEY } from "./support/gateway";

/** Runs one request through a fresh app with some settings replaced. */
async function withSettings(
  overrides: Partial<Record<keyof Bindings, string | undefined>>,
  path = "/healthz",
  init = {},
) {
  const bindings = { ...(env as unknown as Bindings), ...overrides } as Bindings;
  return createApp().request(gatewayRequest(path, init), undefined, bindings);
}

useFreshWorld();

describe("bad or missing configuration fails every request with a 500 naming the setting, never its value", () => {
  const cases: Array<[keyof Bindings, string | undefined]> = [
    ["CLERK_SECRET_KEY", undefined],
    ["CLERK_SECRET_KEY", "not-a-clerk-key-but-a-long-secret"],
    ["CLERK_PUBLISHABLE_KEY", undefined],
    ["CLERK_PUBLISHABLE_KEY", "pk_test_bm90LWEtaG9zdA"],
    ["CLERK_API_URL", "ftp://api.clerk.com"],
    ["CLERK_API_VERSION", "latest"],
    ["CLERK_JWT_KEY", "-----BEGIN CERTIFICATE-----abc-----END CERTIFICATE-----"],
    ["CLERK_AUTHORIZED_PARTIES", "https://app.example.com/path"],
    ["CLERK_WEBHOOK_SIGNING_SECRET", "supersecretvalue"],
    ["GATEWAY_API_KEYS", "short"],
    ["JWT_TEMPLATES_ALLOWED", "ok,not ok"],
    ["SESSION_CACHE_TTL_SECONDS", "-1"],
    ["SESSION_CACHE_TTL_SECONDS", "ten"],
    ["ALLOW_PENDING_SESSIONS", "yes"],
    ["UPSTREAM_TIMEOUT_MS", "1"],
  ];
  it.each(cases)("%s = %j", async (setting, value) => {
    for (const path of ["/healthz", "/v1/me/sessions/active", "/v1/sessions"]) {
      const response = await withSettings({ [setting]: value }, path, { serviceKey: SERVICE_KEY });
      expect(response.status).toBe(500);
      const text = await response.text();
      if (value && value.length > 3) expect(text).not.toContain(value);
      const body = JSON.parse(text) as { errors: Array<{ code: string; long_message: string; meta: unknown }> };
      expect(body.errors[0]).toMatchObject({ code: "internal_error", meta: { setting } });
      expect(body.errors[0]?.long_message).toContain(setting);
    }
    expect(await emulatorCalls()).toHaveLength(0);
  });

  it("refuses a service key list that contains the Clerk secret key", async () => {
    const response = await withSettings({ GATEWAY_API_KEYS: `${SERVICE_KEY},${env.CLERK_SECRET_KEY}` });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain(env.CLERK_SECRET_KEY as string);
    expect(text).toContain("GATEWAY_API_KEYS");
  });

  it("defaults CLERK_API_URL to Clerk's and honours another origin", async () => {
    await withSettings({ CLERK_API_URL: undefined }, `/v1/sessions/${SEED.sessions.aliceDesktop.id}`, {
      serviceKey: SERVICE_KEY,
    });
    await withSettings(
      { CLERK_API_URL: "https://clerk-proxy.internal.example/" },
      `/v1/sessions/${SEED.sessions.aliceDesktop.id}`,
      {
        serviceKey: SERVICE_KEY,
      },
    );
    const hosts = (await emulatorCalls()).map((c) => c.host);
    expect(hosts).toEqual(["api.clerk.com", "clerk-proxy.internal.example"]);
  });
});

describe("Clerk refusing the gateway's secret key is the gateway's fault", () => {
  it("becomes a 502 that never shows the key", async () => {
    const wrongKey = "sk_test_thisKeyIsNotTheEmulatorsKey0000000";
    const response = await withSettings(
      { CLERK_SECRET_KEY: wrongKey },
      `/v1/sessions/${SEED.sessions.aliceDesktop.id}`,
      {
        serviceKey: SERVICE_KEY,
      },
    );
    expect(response.status).toBe(502);
    const body = await errorBody(response.clone());
    expect(body.errors[0]?.code).toBe("upstream_unavailable");
    expect(await response.text()).not.toContain(wrongKey);
  });

  it("is not mistaken for the caller's 401 on user routes either", async () => {
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    const response = await withSettings(
      { CLERK_SECRET_KEY: "sk_test_thisKeyIsNotTheEmulatorsKey0000000", CLERK_JWT_KEY: undefined },
      "/v1/me/sessions",
      { token },
    );
    expect(response.status).toBe(502);
  });
});
