import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { sessionGateway } from "../../src/hono";
import openapi from "../../src/openapi-document";
import { clearCalls, signIn, upstreamCalls } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";

/**
 * sessionGateway() under prefixes an app may choose, parameters included: the gateway sees
 * its own paths, answers its own errors in Clerk's envelope, and names the mount in its
 * OpenAPI document. (examples/hono-app tests the same app end to end at /clerk.)
 */
useFreshWorld();

type Envelope = { errors: Array<{ code: string; long_message: string }> };

function host() {
  const app = new Hono();
  app.get("/", (c) => c.text("the app's own root"));
  app.route("/t/:tenant/auth", sessionGateway({ openapi }));
  app.notFound((c) => c.text("the app's own 404", 404));
  return app;
}

const get = (app: Hono, path: string, init: RequestInit = {}, bindings: object = env) =>
  app.request(`https://app.example.test${path}`, init, bindings);

describe("mounted under a prefix with a parameter", () => {
  it("serves the gateway's routes with the prefix stripped, and leaves the app's routes alone", async () => {
    const app = host();
    expect(await (await get(app, "/t/acme/auth/healthz")).json()).toEqual({ status: "ok" });
    const device = await signIn("alice");
    const list = await get(app, "/t/acme/auth/v1/me/sessions/active", {
      headers: { Authorization: `Bearer ${device.token}` },
    });
    expect(list.status).toBe(200);
    expect(await (await get(app, "/")).text()).toBe("the app's own root");
    expect(await (await get(app, "/elsewhere")).text()).toBe("the app's own 404");
  });

  it("answers unknown paths under the prefix with its own 404 in Clerk's envelope, without calling Clerk", async () => {
    await clearCalls();
    const response = await get(host(), "/t/acme/auth/v1/unknown");
    expect(response.status).toBe(404);
    expect(((await response.json()) as Envelope).errors[0]?.code).toBe("resource_not_found");
    expect(await upstreamCalls()).toBe(0);
  });

  it("strips the prefix as the request spelled it, percent-encoding included", async () => {
    const response = await get(host(), "/t/a%20b/auth/healthz");
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("names the mount, as requested, as the OpenAPI document's server", async () => {
    const document = (await (await get(host(), "/t/beta/auth/openapi.json")).json()) as {
      servers: Array<{ url: string }>;
    };
    expect(document.servers.map((s) => s.url)).toEqual(["/t/beta/auth"]);
  });

  it("without { openapi }: 404 in Clerk's envelope saying how to pass it, with or without the app's own assets", async () => {
    const app = new Hono();
    app.route("/clerk", sessionGateway());
    const { ASSETS: _assets, ...withoutAssets } = env as typeof env & { ASSETS?: unknown };
    for (const bindings of [env, withoutAssets]) {
      const response = await get(app, "/clerk/openapi.json", {}, bindings);
      expect(response.status).toBe(404);
      const [error] = ((await response.json()) as Envelope).errors;
      expect(error?.code).toBe("resource_not_found");
      expect(error?.long_message).toContain("sessionGateway({ openapi })");
      expect(error?.long_message).toContain('import openapi from "clerk-session-gateway/openapi"');
      expect(error?.long_message).not.toContain("wrangler.toml");
    }
  });

  it("without its KV namespace answers 500 in Clerk's envelope naming the binding", async () => {
    const { SESSION_CACHE: _kv, ...withoutKv } = env;
    const response = await get(host(), "/t/acme/auth/healthz", {}, withoutKv);
    expect(response.status).toBe(500);
    const body = (await response.json()) as Envelope;
    expect(body.errors[0]?.long_message).toContain("SESSION_CACHE");
  });
});
