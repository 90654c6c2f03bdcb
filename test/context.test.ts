import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/api/app";
import { principalOf, userOf } from "../src/auth/principal";
import { configOf, loadConfig } from "../src/config/settings";
import type { AppEnv } from "../src/http/app-env";
import { authenticate } from "../src/http/auth-middleware";
import { observe, requestMetrics } from "../src/http/request-log";
import { SessionService, sessionServiceOf } from "../src/sessions/session-service";
import { freshToken, SEED } from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { gatewayRequest } from "./support/gateway";

/**
 * The typed context: each middleware's variables are read through its accessor, and a
 * route that runs without a middleware gets that middleware's documented absence, not a crash.
 */
useFreshWorld();

describe("context accessors", () => {
  it("read what observe(), the configuration and the auth middleware set", async () => {
    const app = new Hono<AppEnv>();
    app.use(observe());
    app.use(async (c, next) => {
      c.set("config", loadConfig(c.env));
      await next();
    });
    const seen: Record<string, unknown> = {};
    app.get("/anonymous", (c) => {
      seen.anonymous = principalOf(c).kind;
      seen.metrics = typeof requestMetrics(c).startedAt;
      seen.issuer = configOf(c).issuer;
      return c.text("ok");
    });
    app.get("/user", authenticate({ allow: ["user"] }), (c) => {
      seen.user = userOf(c).sessionId;
      return c.text("ok");
    });
    app.get("/not-a-user", (c) => c.text(userOf(c).userId));
    app.onError((error, c) => c.text(String((error as { status?: number }).status), 500));

    expect((await app.request(gatewayRequest("/anonymous"), undefined, env)).status).toBe(200);
    expect(seen).toMatchObject({ anonymous: "anonymous", metrics: "number", issuer: loadConfig(env).issuer });

    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    expect((await app.request(gatewayRequest("/user", { token }), undefined, env)).status).toBe(200);
    expect(seen.user).toBe(SEED.sessions.aliceDesktop.id);

    // userOf on a route no auth middleware guarded: a 401, never a principal made up.
    const refused = await app.request(gatewayRequest("/not-a-user"), undefined, env);
    expect(await refused.text()).toBe("401");
  });

  it("reaches the session service the app wires for each request", async () => {
    const app = createApp();
    let service: unknown;
    app.get("/probe", (c) => {
      service = sessionServiceOf(c);
      return c.text("ok");
    });
    await app.request(gatewayRequest("/probe"), undefined, env);
    expect(service).toBeInstanceOf(SessionService);
  });
});
