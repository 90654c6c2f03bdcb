import { beforeEach, describe, expect, it } from "vitest";
import { TEST_AUTHORIZED_PARTIES } from "../support/config";
import { clearCalls, SEED, type SignedIn, signIn, upstreamCalls } from "../support/emulator";
import { freshWorld } from "../support/fresh-world";
import { call, errorBody, SERVICE_KEY } from "../support/gateway";
import { everyRoute } from "./routes";

/**
 * What a browser relies on: CORS only for CLERK_AUTHORIZED_PARTIES (with credentials),
 * cookie-authenticated writes only from those origins, a body-size limit, secure headers,
 * and nothing authenticated ever stored by a cache.
 */

const ALLOWED = TEST_AUTHORIZED_PARTIES[1];
let alice: SignedIn;

beforeEach(async () => {
  await freshWorld();
  alice = await signIn("alice");
  await clearCalls();
});

const preflight = (origin: string) =>
  call("/v1/me/sessions/active", {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "GET",
      "Access-Control-Request-Headers": "authorization",
    },
  });

describe("CORS is granted only to CLERK_AUTHORIZED_PARTIES, with credentials", () => {
  it("a preflight from an authorized origin is answered for that origin", async () => {
    const response = await preflight(ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    expect(response.headers.get("Vary")).toContain("Origin");
  });

  it("a preflight from any other origin gets no Access-Control-Allow-Origin", async () => {
    for (const origin of [
      "https://evil.example",
      "null",
      `${ALLOWED}.evil.example`,
      ALLOWED.replace("https", "http"),
    ]) {
      const response = await preflight(origin);
      expect(response.headers.get("Access-Control-Allow-Origin"), origin).toBeNull();
      expect(response.headers.get("Vary")).toContain("Origin");
    }
    expect(await upstreamCalls()).toBe(0);
  });

  it("actual responses echo only an authorized Origin and always Vary on it", async () => {
    const ok = await call("/v1/me/sessions/active", { token: alice.token, headers: { Origin: ALLOWED } });
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
    expect(ok.headers.get("Vary")).toContain("Origin");
    const evil = await call("/v1/me/sessions/active", {
      token: alice.token,
      headers: { Origin: "https://evil.example" },
    });
    expect(evil.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(evil.headers.get("Vary")).toContain("Origin");
  });
});

describe("cookie-authenticated writes must carry an authorized Origin", () => {
  it("no Origin or a foreign one is 403 before any call to Clerk; an authorized one works", async () => {
    const path = `/v1/sessions/${alice.session_id}/tokens`;
    const refused: Array<Record<string, string>> = [{}, { Origin: "https://evil.example" }, { Origin: "null" }];
    for (const headers of refused) {
      const response = await call(path, { method: "POST", cookie: alice.token, headers });
      expect(response.status).toBe(403);
      expect((await errorBody(response)).errors[0]?.code).toBe("authorization_invalid");
    }
    expect(await upstreamCalls()).toBe(0);
    expect((await call(path, { method: "POST", cookie: alice.token, headers: { Origin: ALLOWED } })).status).toBe(200);
  });

  it("cookie reads need no Origin; header-authenticated writes need none (not sent by a browser on its own)", async () => {
    expect((await call("/v1/me/sessions/active", { cookie: alice.token })).status).toBe(200);
    expect((await call(`/v1/sessions/${alice.session_id}/tokens`, { method: "POST", token: alice.token })).status).toBe(
      200,
    );
  });
});

describe("the Authorization header takes precedence over the __session cookie", () => {
  it("a valid header wins over a garbage cookie; a malformed header is a failure even with a valid cookie", async () => {
    const both = await call("/v1/me/sessions/active", { token: alice.token, headers: { Cookie: "__session=garbage" } });
    expect(both.status).toBe(200);
    await clearCalls();
    const bad = await call("/v1/me/sessions/active", {
      cookie: alice.token,
      headers: { Authorization: "Bearer garbage" },
    });
    expect(bad.status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("request bodies are limited to 16 KiB", () => {
  it("a larger body is 413 request_body_too_large, with or without Content-Length, before any call to Clerk", async () => {
    const big = JSON.stringify({ user_id: SEED.users.alice.id, pad: "x".repeat(17 * 1024) });
    const sized = await call("/v1/sessions", { method: "POST", serviceKey: SERVICE_KEY, json: JSON.parse(big) });
    expect(sized.status).toBe(413);
    expect((await errorBody(sized)).errors[0]?.code).toBe("request_body_too_large");
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.slice(i, i + 4096));
        controller.close();
      },
    });
    const chunked = await call("/v1/sessions", {
      method: "POST",
      serviceKey: SERVICE_KEY,
      headers: { "Content-Type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("secure headers and no caching on every response", () => {
  it("every route, as owner, service and anonymous, answers private, no-store with secure headers", async () => {
    const who = [{ token: alice.token }, { serviceKey: SERVICE_KEY }, {}];
    for (const route of everyRoute(alice.session_id)) {
      for (const auth of who) {
        const response = await call(route.path, {
          method: route.method,
          ...auth,
          ...(route.json ? { json: route.json } : {}),
        });
        expect(response.headers.get("Cache-Control"), route.name).toBe("private, no-store");
        expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
        expect(response.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
        expect(response.headers.get("Strict-Transport-Security")).toContain("max-age=");
        expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
      }
    }
    const missing = await call("/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("Cache-Control")).toBe("private, no-store");
  });
});
