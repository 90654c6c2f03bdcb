import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import exampleWranglerToml from "../examples/hono-app/wrangler.toml?raw";
import readme from "../README.md?raw";
import { createApp } from "../src/api/app";
import { type ConfigBindings as Bindings, SETTINGS, type SettingName } from "../src/config/settings";
import wranglerToml from "../wrangler.toml?raw";
import { emulatorCalls, freshToken, SEED } from "./support/emulator";
import { captureConsole, useFreshWorld } from "./support/fresh-world";
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

  it('takes CLERK_API_VERSION = "v1" (what @clerk/backend and @clerk/hono mean by it) as the default dated version', async () => {
    const response = await withSettings({ CLERK_API_VERSION: "v1" }, `/v1/sessions/${SEED.sessions.aliceDesktop.id}`, {
      serviceKey: SERVICE_KEY,
    });
    expect(response.status).toBe(200);
    expect((await emulatorCalls()).map((c) => c.api_version)).toEqual(["2026-05-12"]);
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
    // Another attempt cannot fix a rejected key: the read is not retried like other 502s.
    expect(await emulatorCalls()).toHaveLength(1);
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

describe("a missing or malformed CLERK_WEBHOOK_SIGNING_SECRET fails only POST /webhooks/clerk", () => {
  it.each([
    ["missing", undefined],
    ["a placeholder", "whsec_replace_with_your_signing_secret"],
    ["not a Svix secret", "supersecretvalue"],
  ])("%s", async (_case, value) => {
    const overrides = { CLERK_WEBHOOK_SIGNING_SECRET: value };
    expect((await withSettings(overrides, "/healthz")).status).toBe(200);
    const read = await withSettings(overrides, `/v1/sessions/${SEED.sessions.aliceDesktop.id}`, {
      serviceKey: SERVICE_KEY,
    });
    expect(read.status).toBe(200);

    const webhook = await withSettings(overrides, "/webhooks/clerk", {
      method: "POST",
      body: JSON.stringify({ type: "session.ended", data: {} }),
      headers: { "svix-id": "msg_1", "svix-timestamp": "1", "svix-signature": "v1,abc" },
    });
    expect(webhook.status).toBe(500);
    const text = await webhook.text();
    if (value) expect(text).not.toContain(value);
    const body = JSON.parse(text) as { errors: Array<{ code: string; meta: unknown }> };
    expect(body.errors[0]).toMatchObject({ code: "internal_error", meta: { setting: "CLERK_WEBHOOK_SIGNING_SECRET" } });
    // Only the service read reached Clerk.
    expect((await emulatorCalls()).map((call) => call.path)).toEqual([`/v1/sessions/${SEED.sessions.aliceDesktop.id}`]);
  });
});

describe("the request log of a misconfigured gateway names the setting, never its value", () => {
  const capture = captureConsole();

  it("puts the setting on the request line", async () => {
    const value = "twelve-and-a-half-seconds";
    const response = await withSettings({ UPSTREAM_TIMEOUT_MS: value }, "/healthz");
    expect(response.status).toBe(500);
    const request = capture.json().find((line) => line.msg === "request");
    expect(request).toMatchObject({ error_code: "internal_error", setting: "UPSTREAM_TIMEOUT_MS", status: 500 });
    expect(capture.lines.join("\n")).not.toContain(value);
  });
});

describe("one settings table: src/config/settings.ts SETTINGS", () => {
  const names = Object.keys(SETTINGS) as SettingName[];

  it("is the README's configuration table, row for row", () => {
    const section = readme.slice(
      readme.indexOf("## Configuration"),
      readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1),
    );
    const rows = section
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .map((line) =>
        line
          .slice(1, -1)
          .split(" | ")
          .map((cell) => cell.trim()),
      );
    expect(rows).toEqual(
      names.map((name) => [`\`${name}\``, SETTINGS[name].kind, SETTINGS[name].description, SETTINGS[name].default]),
    );
  });

  it("names only settings in .dev.vars.example, every secret among them, with no value that could pass for a real one", () => {
    const assignments = [...devVarsExample.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]+)=(.*)$/gm)].map(
      ([, comment, name, value]) => ({
        commented: comment !== undefined,
        name: name as string,
        value: (value ?? "").trim(),
      }),
    );
    for (const { name } of assignments) expect(names, name).toContain(name);
    for (const name of names.filter((n) => SETTINGS[n].kind === "secret")) {
      expect(assignments.map((a) => a.name)).toContain(name);
    }
    // Copied as it is, the file sets nothing that looks configured: live lines are empty until filled in.
    for (const { name, value } of assignments.filter((a) => !a.commented)) expect(value, name).toBe("");
  });

  it("names only settings in wrangler.toml [vars]", () => {
    const vars = wranglerToml.slice(
      wranglerToml.indexOf("[vars]"),
      wranglerToml.indexOf("\n[", wranglerToml.indexOf("[vars]")),
    );
    const declared = [...vars.matchAll(/^([A-Z][A-Z0-9_]+)\s*=/gm)].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(0);
    for (const name of declared) expect(names).toContain(name);
  });

  it("has a parser for each setting that names the setting when it refuses a value", () => {
    for (const name of names) {
      const definition = SETTINGS[name];
      try {
        const parsed = definition.parse("\u0000 not a value \u0000", name);
        // A setting checked on use refuses when used.
        if (typeof parsed === "function") parsed();
      } catch (error) {
        expect(String((error as Error).message), name).toContain(name);
      }
    }
  });
});

describe("deployed, the log lines are kept and queryable (Workers Logs)", () => {
  /** The keys of one `[table]` of a wrangler.toml, up to the next table. */
  const table = (toml: string, name: string) => {
    const start = toml.search(new RegExp(`^\\[${name}\\]$`, "m"));
    if (start < 0) return undefined;
    const end = toml.indexOf("\n[", start + 1);
    const body = toml.slice(start, end < 0 ? undefined : end);
    return Object.fromEntries([...body.matchAll(/^(\w+)\s*=\s*(\S+)/gm)].map((m) => [m[1], m[2]]));
  };

  it("wrangler.toml and the example app's enable [observability], every request sampled", () => {
    expect(table(wranglerToml, "observability")).toEqual({ enabled: "true", head_sampling_rate: "1" });
    expect(table(exampleWranglerToml, "observability")).toMatchObject({ enabled: "true" });
  });
});
