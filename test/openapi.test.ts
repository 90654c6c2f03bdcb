import { type Schema, Validator } from "@cfworker/json-schema";
import { describe, expect, inject, it } from "vitest";
import { createApp } from "../src/api/app";
import { buildOpenApiDocument, OPERATIONS } from "../src/api/openapi";
import { PAGE_ROUTES } from "../src/api/routes/pages";
import { TEST_PUBLISHABLE_KEY } from "./support/config";
import { freshToken, SEED } from "./support/emulator";
import { freshWorld } from "./support/fresh-world";
import { call, SERVICE_KEY } from "./support/gateway";

type Json = Record<string, unknown>;
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Json & { parameters: Json[]; responses: Record<string, Json> }>>;
  components: Json;
};

const built = buildOpenApiDocument() as Doc;

/** "GET /v1/sessions/{session_id}" for every handler route of the Hono app, pages left out. */
function appRoutes(): string[] {
  const pages = new Set<string>(PAGE_ROUTES);
  const routes = createApp()
    .routes.filter((r) => r.method !== "ALL" && !pages.has(r.path))
    .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`);
  return [...new Set(routes)].sort();
}

function documentedRoutes(doc: Doc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

/** Validates a body against a response schema of the document, its $refs resolved within it. */
function validateAgainst(schema: Json, body: unknown) {
  const root = { ...schema, components: built.components } as Schema;
  return new Validator(root, "2020-12", false).validate(body);
}

describe("/openapi.json is a valid OpenAPI 3.1 document", () => {
  it("passes a maintained OpenAPI validator", () => {
    const result = inject("openapiValidation");
    expect(result.errors).toBe("");
    expect(result.valid).toBe(true);
    expect(result.version).toBe("3.1");
  });

  it("is served as a static asset, exactly as src/api/openapi.ts builds it from today's schemas", async () => {
    const response = await call("/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual(built);
  });
});

describe("the document and the routes agree", { timeout: 20_000 }, () => {
  it("lists every route of the app, and no route the app does not have", () => {
    expect(documentedRoutes(built)).toEqual(appRoutes());
    expect(appRoutes()).toHaveLength(14);
  });

  it("gives every operation its parameters, request body and response schemas", () => {
    for (const op of OPERATIONS) {
      const operation = built.paths[op.path]?.[op.method];
      expect(operation, `${op.method} ${op.path}`).toBeDefined();
      const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = operation!.parameters.filter((p) => p.in === "path").map((p) => p.name);
      expect(declared.sort()).toEqual(pathParams.sort());
      const ok = operation!.responses["200"] as { content: { "application/json": { schema: Json } } };
      expect(ok.content["application/json"].schema).toBeTruthy();
      if (op.method === "post" && op.path !== "/v1/me/sessions/{session_id}/revoke") {
        expect(operation!.requestBody, `${op.method} ${op.path} body`).toBeDefined();
      }
      for (const [status, response] of Object.entries(operation!.responses)) {
        if (status !== "200") expect(JSON.stringify(response)).toContain("#/components/schemas/ClerkErrors");
      }
    }
  });

  it("documents the validation the routes apply (the same zod schemas)", async () => {
    const params = built.paths["/v1/sessions/{session_id}/tokens/{template_name}"]!.post!.parameters;
    const session = params.find((p) => p.name === "session_id")!.schema as { pattern: string };
    const template = params.find((p) => p.name === "template_name")!.schema as { pattern: string };
    expect(new RegExp(session.pattern).test(SEED.sessions.aliceDesktop.id)).toBe(true);
    expect(new RegExp(session.pattern).test("sess_../../x")).toBe(false);
    expect(new RegExp(template.pattern).test("a/b")).toBe(false);
    const limit = built.paths["/v1/sessions"]!.get!.parameters.find((p) => p.name === "limit")!.schema;
    // Documented as what a caller sends: a query string of digits.
    expect(limit).toMatchObject({ type: "string" });
    const body = (
      built.paths["/v1/sessions"]!.post!.requestBody as { content: { "application/json": { schema: Json } } }
    ).content["application/json"].schema;
    expect(body).toMatchObject({ required: ["user_id"], additionalProperties: false });
    const refused = await call("/v1/sessions", { serviceKey: SERVICE_KEY, method: "POST", json: { user_id: "x" } });
    expect(refused.status).toBe(400);
  });

  it("describes what the gateway actually answers", async () => {
    await freshWorld();
    const token = await freshToken(SEED.sessions.aliceDesktop.id);
    const cases: Array<[string, string, RequestInit & { token?: string; serviceKey?: string }]> = [
      ["get", "/v1/me/sessions/active", { token }],
      ["get", "/v1/me/sessions", { token }],
      ["get", "/v1/sessions", { serviceKey: SERVICE_KEY }],
      ["get", "/v1/sessions/{session_id}", { serviceKey: SERVICE_KEY }],
      ["get", "/healthz", {}],
    ];
    for (const [method, path, init] of cases) {
      const url = path.replace("{session_id}", SEED.sessions.aliceDesktop.id);
      const response = await call(`${url}${path === "/v1/sessions" ? `?user_id=${SEED.users.alice.id}` : ""}`, init);
      expect(response.status, url).toBe(200);
      const ok = built.paths[path]![method]!.responses["200"] as { content: { "application/json": { schema: Json } } };
      const result = validateAgainst(ok.content["application/json"].schema, await response.json());
      expect(result.errors, `${method} ${path}`).toEqual([]);
    }
    const denied = await call("/v1/me/sessions/active");
    const errorSchema = built.paths["/v1/me/sessions/active"]!.get!.responses["401"] as {
      content: { "application/json": { schema: Json } };
    };
    expect(validateAgainst(errorSchema.content["application/json"].schema, await denied.json()).valid).toBe(true);
  });
});

describe("pages are served from static assets with a strict Content-Security-Policy", () => {
  it("serves /devices and /docs as HTML that may run only its own scripts", async () => {
    for (const path of ["/devices", "/docs"]) {
      const response = await call(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/html");
      const csp = response.headers.get("Content-Security-Policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-eval");
      expect(await response.text()).toContain('<script type="module" src="/assets/');
    }
    const script = await call("/assets/devices.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
  });

  it("lands / on a page linking the devices page, the reference, the document and the health check", async () => {
    const response = await call("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
    const html = await response.text();
    for (const href of ["/devices", "/docs", "/openapi.json", "/healthz"]) expect(html).toContain(`href="${href}"`);
  });

  it("keeps unknown paths as Clerk-style 404s", async () => {
    const response = await call("/assets/nope.js");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe("resource_not_found");
  });

  it("tells the page to use clerk-js, unless a development instance names a dev sign-in", async () => {
    const deployed = (await (await call("/devices/config.json")).json()) as Json;
    expect(deployed).toEqual({
      mode: "clerk",
      publishable_key: TEST_PUBLISHABLE_KEY,
      frontend_api: "https://happy-hippo-42.clerk.accounts.dev",
    });
    const app = createApp();
    const env = {
      CLERK_SECRET_KEY: "sk_test_localDevEmulatorKey_notASecret_0123456789",
      CLERK_PUBLISHABLE_KEY: TEST_PUBLISHABLE_KEY,
      DEV_SIGN_IN_URL: "http://127.0.0.1:8788",
    };
    const local = await app.request("/devices/config.json", {}, env);
    expect(await local.json()).toEqual({ mode: "emulator", emulator_url: "http://127.0.0.1:8788" });
    // A production instance never signs anyone in through a dev endpoint.
    const live = await app.request(
      "/devices/config.json",
      {},
      { ...env, CLERK_SECRET_KEY: "sk_live_x0123456789abcdef", CLERK_PUBLISHABLE_KEY: liveKey() },
    );
    expect(((await live.json()) as Json).mode).toBe("clerk");
  });
});

function liveKey() {
  return `pk_live_${btoa("clerk.example.com$")}`;
}
