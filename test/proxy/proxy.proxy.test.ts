import { beforeEach, describe, expect, it } from "vitest";
import { RATE_LIMITS } from "../../src/config/rate-limits";
import { expiredToken, SEED, signIn, tokenWith, upstreamCalls } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, errorBody, SERVICE_KEY } from "../support/gateway";
import { DOWN_HOST, ORIGIN_URL, TEST_BASE_PATH, TEST_ORIGIN_SECRET, TEST_ORIGIN_TIMEOUT_MS } from "./config";
import { clearOrigin, digestStream, originRequests, patternStream, sendWith, testEnv } from "./support";

/**
 * The identity-aware proxy, in workerd, in front of a real origin (an auxiliary Worker that
 * records every request). This project's gateway runs with ORIGIN_URL, PUBLIC_PATHS
 * (/public, /assets/static), GATEWAY_BASE_PATH (/clerk) and ORIGIN_SHARED_SECRET; other
 * modes are reached by calling the same entry with some bindings changed.
 */

useFreshWorld();
beforeEach(clearOrigin);

const echo = async (response: Response) =>
  (await response.json()) as { method: string; path: string; search: string; headers: Record<string, string> };

async function expectRefusedBeforeOrigin(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect((await errorBody(response)).errors[0]?.code).toBe(code);
  expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  expect(await originRequests()).toEqual([]);
}

describe("a signed-in request reaches the origin with the gateway's identity headers", () => {
  it("carries user and session ids and the shared secret; method, path, query and other headers unchanged", async () => {
    const alice = await signIn("alice");
    const response = await call("/api/orders/42?expand=items&x=%2F", {
      token: alice.token,
      headers: { Accept: "application/json", "X-Custom": "kept", "Accept-Language": "de" },
    });
    expect(response.status).toBe(200);
    const seen = await echo(response);
    expect(seen).toMatchObject({ method: "GET", path: "/api/orders/42", search: "?expand=items&x=%2F" });
    expect(seen.headers).toMatchObject({
      "x-clerk-user-id": SEED.users.alice.id,
      "x-clerk-session-id": alice.session_id,
      "x-gateway-secret": TEST_ORIGIN_SECRET,
      "x-custom": "kept",
      "accept-language": "de",
      "x-forwarded-host": "gateway.test",
      "x-forwarded-proto": "https",
      // Kept on purpose: an origin that verifies Clerk tokens itself keeps working.
      authorization: `Bearer ${alice.token}`,
    });
    expect(seen.headers["x-clerk-org-id"]).toBeUndefined();
    expect(await originRequests()).toHaveLength(1);
  });

  it("the __session cookie authenticates like the header and is passed on", async () => {
    const bob = await signIn("bob");
    const response = await call("/dashboard", { cookie: bob.token });
    const seen = await echo(response);
    expect(seen.headers["x-clerk-user-id"]).toBe(SEED.users.bob.id);
    expect(seen.headers.cookie).toBe(`__session=${bob.token}`);
  });

  it("X-Clerk-Org-Id from a v2 token's o.id, and from a v1 token's org_id", async () => {
    const alice = await signIn("alice");
    const v2 = await tokenWith(alice.session_id, { o: { id: "org_2v2Organization000000000", rol: "admin" } });
    expect((await echo(await call("/org", { token: v2 }))).headers["x-clerk-org-id"]).toBe(
      "org_2v2Organization000000000",
    );
    const v1 = await tokenWith(alice.session_id, { v: undefined, org_id: "org_1v1Organization000000000" });
    expect((await echo(await call("/org", { token: v1 }))).headers["x-clerk-org-id"]).toBe(
      "org_1v1Organization000000000",
    );
  });

  it("the origin's response comes back as it was: no gateway headers added", async () => {
    const alice = await signIn("alice");
    const response = await call("/status/200", { token: alice.token });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("origin says 200");
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=60");
    expect(response.headers.get("Set-Cookie")).toBe("origin_cookie=1; Path=/; HttpOnly");
    expect(response.headers.get("X-Origin")).toBe("yes");
    for (const added of ["Server-Timing", "X-Request-Id", "X-Content-Type-Options", "Access-Control-Allow-Origin"]) {
      expect(response.headers.get(added)).toBeNull();
    }
  });
});

describe("ORIGIN_FORWARD_CREDENTIALS=false: the origin gets the identity, not the token", () => {
  it("removes Authorization and Clerk's session cookies, keeps every other cookie", async () => {
    const alice = await signIn("alice");
    const noCredentials = { ORIGIN_FORWARD_CREDENTIALS: "false" };
    const viaHeader = await echo(
      await sendWith(noCredentials, "/api/me", {
        token: alice.token,
        headers: { Cookie: "theme=dark; __session_Abc123=x.y.z; lang=de" },
      }),
    );
    expect(viaHeader.headers.authorization).toBeUndefined();
    expect(viaHeader.headers.cookie).toBe("theme=dark; lang=de");
    expect(viaHeader.headers["x-clerk-user-id"]).toBe(SEED.users.alice.id);

    const viaCookie = await echo(await sendWith(noCredentials, "/api/me", { cookie: alice.token }));
    expect(viaCookie.headers.cookie).toBeUndefined();
    expect(viaCookie.headers["x-clerk-user-id"]).toBe(SEED.users.alice.id);
  });
});

describe("identity headers a caller sends are removed, in every spelling", () => {
  const spoofed = {
    "X-Clerk-User-Id": "user_spoofed0000000000000000000",
    "x-clerk-session-id": "sess_spoofed",
    "X-CLERK-ORG-ID": "org_spoofed",
    x_clerk_user_id: "user_underscore",
    X_Clerk_Session_Id: "sess_underscore",
    "x-Clerk-oRg_iD": "org_mixed",
    "X-Clerk-Auth-Status": "signed-in",
    "x-gateway-secret": "guessed",
    X_GATEWAY_SECRET: "guessed",
  };

  it("on an authenticated path: replaced by the verified identity", async () => {
    const alice = await signIn("alice");
    const seen = await echo(await call("/api/me", { token: alice.token, headers: spoofed }));
    const names = Object.keys(seen.headers);
    expect(names.filter((name) => name.replaceAll("_", "-").startsWith("x-clerk-")).sort()).toEqual([
      "x-clerk-session-id",
      "x-clerk-user-id",
    ]);
    expect(seen.headers["x-clerk-user-id"]).toBe(SEED.users.alice.id);
    expect(seen.headers["x-clerk-session-id"]).toBe(alice.session_id);
    expect(seen.headers["x-gateway-secret"]).toBe(TEST_ORIGIN_SECRET);
    expect(names.filter((name) => /gateway.secret/.test(name))).toEqual(["x-gateway-secret"]);
  });

  it("on a public path: removed, and no identity put in their place", async () => {
    const seen = await echo(await call("/public/page", { headers: spoofed }));
    const names = Object.keys(seen.headers);
    expect(names.filter((name) => name.replaceAll("_", "-").startsWith("x-clerk-"))).toEqual([]);
    expect(seen.headers["x-gateway-secret"]).toBe(TEST_ORIGIN_SECRET);
  });
});

describe("a caller the gateway does not accept never reaches the origin", () => {
  it("no credential: 401", async () => {
    await expectRefusedBeforeOrigin(await call("/api/me"), 401, "authentication_invalid");
  });

  it("a malformed Authorization header: 401", async () => {
    await expectRefusedBeforeOrigin(
      await call("/api/me", { headers: { Authorization: "Basic dXNlcjpwYXNz" } }),
      401,
      "authentication_invalid",
    );
  });

  it("a token with a bad signature, an expired token, a token for another party: 401", async () => {
    const alice = await signIn("alice");
    const [header, payload] = alice.token.split(".");
    const forged = `${header}.${payload}.${"A".repeat(342)}`;
    const wrongParty = await tokenWith(alice.session_id, { azp: "https://evil.example" });
    for (const token of [forged, await expiredToken(alice.session_id), wrongParty]) {
      await expectRefusedBeforeOrigin(await call("/api/me", { token }), 401, "authentication_invalid");
    }
  });

  it("a revoked session, the moment it is revoked through the gateway: 401", async () => {
    const laptop = await signIn("dave");
    expect((await call("/api/me", { token: laptop.token })).status).toBe(200);
    await clearOrigin();
    const revoke = await call(`${TEST_BASE_PATH}/v1/me/sessions/${laptop.session_id}/revoke`, {
      method: "POST",
      token: laptop.token,
    });
    expect(revoke.status).toBe(200);
    await expectRefusedBeforeOrigin(await call("/api/me", { token: laptop.token }), 401, "authentication_invalid");
  });

  it("a service key: 403 (the origin is told about users; the key must not travel on)", async () => {
    await expectRefusedBeforeOrigin(await call("/api/me", { serviceKey: SERVICE_KEY }), 403, "authorization_invalid");
  });

  it("an unknown service key: 401", async () => {
    await expectRefusedBeforeOrigin(
      await call("/api/me", { serviceKey: "gw_test_notAKeyTheGatewayKnows_000" }),
      401,
      "authentication_invalid",
    );
  });

  it("a cookie-authenticated write from a foreign origin: 403; from an authorized one it goes through", async () => {
    const alice = await signIn("alice");
    await expectRefusedBeforeOrigin(
      await call("/api/transfer", { method: "POST", cookie: alice.token, headers: { Origin: "https://evil.example" } }),
      403,
      "authorization_invalid",
    );
    const allowed = await call("/api/transfer", {
      method: "POST",
      cookie: alice.token,
      headers: { Origin: "https://app.example.com" },
    });
    expect(allowed.status).toBe(200);
  });

  it("an anonymous or service-key refusal costs no call to Clerk either", async () => {
    await call("/api/me");
    await call("/api/me", { serviceKey: SERVICE_KEY });
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("PUBLIC_PATHS: forwarded without identity, matched segment by segment", () => {
  it("/public and /public/... and /assets/static/... are public", async () => {
    for (const path of ["/public", "/public/", "/public/a/b?c=d", "/assets/static/app.js"]) {
      const response = await call(path);
      expect(response.status, path).toBe(200);
      const seen = await echo(response);
      expect(seen.headers["x-clerk-user-id"]).toBeUndefined();
    }
  });

  it("a public path carries no identity even for a signed-in caller", async () => {
    const alice = await signIn("alice");
    const seen = await echo(await call("/public/x", { token: alice.token }));
    expect(seen.headers["x-clerk-user-id"]).toBeUndefined();
  });

  const notPublic = [
    "/publicity",
    "/public-ish",
    "/PUBLIC/x",
    "/assets/other.js",
    "/assets",
    "/public/../private",
    "/public/%2e%2e/private",
    "/public/.%2E/private",
    "/public/..;/private",
    "/public;x=1/../private",
    "/public%2F..%2Fprivate",
    "/public/%2F..%2Fprivate",
    "/public/..%5Cprivate",
    "/public/%00",
    "/public/%zz",
  ];
  for (const path of notPublic) {
    it(`${path} needs authentication (401, origin not called)`, async () => {
      await expectRefusedBeforeOrigin(await call(path), 401, "authentication_invalid");
    });
  }
});

describe("methods, bodies and statuses pass through", () => {
  it("POST, PUT, PATCH, DELETE with their bodies; HEAD without one", async () => {
    const alice = await signIn("alice");
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const body = JSON.stringify({ method, payload: "x".repeat(100) });
      const response = await call("/api/items", {
        method,
        token: alice.token,
        body,
        headers: { "Content-Type": "application/json" },
      });
      const seen = (await response.json()) as { method: string; bytes: number; headers: Record<string, string> };
      expect(seen.method).toBe(method);
      expect(seen.bytes).toBe(body.length);
      expect(seen.headers["content-type"]).toBe("application/json");
    }
    const head = await call("/api/items", { method: "HEAD", token: alice.token });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).not.toBeNull();
    expect(await head.text()).toBe("");
    expect((await originRequests()).map((r) => r.method)).toEqual(["POST", "PUT", "PATCH", "DELETE", "HEAD"]);
  });

  it("a redirect is returned to the caller, not followed", async () => {
    const alice = await signIn("alice");
    // The test's own fetch must not follow it either, or the origin would see a second request.
    const response = await call("/redirect", { token: alice.token, redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/after-redirect");
    expect((await originRequests()).map((r) => r.path)).toEqual(["/redirect"]);
  });

  it("the origin's errors pass through untouched (status, headers, body)", async () => {
    const alice = await signIn("alice");
    for (const status of [400, 401, 403, 404, 409, 429, 500, 502, 503]) {
      const response = await call(`/status/${status}`, { token: alice.token });
      expect(response.status).toBe(status);
      expect(await response.text()).toBe(`origin says ${status}`);
      expect(response.headers.get("Retry-After")).toBe("7");
      expect(response.headers.get("Cache-Control")).toBe("public, max-age=60");
      expect(response.headers.get("X-Origin")).toBe("yes");
    }
    expect((await call("/status/204", { token: alice.token })).status).toBe(204);
  });
});

describe("content encoding", () => {
  it("a caller that accepts no encoding gets the origin's compressed body decoded", async () => {
    const alice = await signIn("alice");
    const response = await sendWith({}, "/compressed", {
      token: alice.token,
      headers: { "Accept-Encoding": "identity" },
    });
    expect(response.headers.get("Content-Encoding")).toBeNull();
    expect(await response.text()).toBe("compressible ".repeat(100));
  });

  it("a caller that accepts it keeps the origin's Content-Encoding", async () => {
    const alice = await signIn("alice");
    const response = await sendWith({}, "/compressed", {
      token: alice.token,
      headers: { "Accept-Encoding": "br;q=0, gzip" },
    });
    expect(response.headers.get("Content-Encoding")).toBe("gzip");
    const refused = await sendWith({}, "/compressed", {
      token: alice.token,
      headers: { "Accept-Encoding": "gzip;q=0, br" },
    });
    expect(refused.headers.get("Content-Encoding")).toBeNull();
    expect(await refused.text()).toBe("compressible ".repeat(100));
  });
});

describe("bodies are streamed both ways", () => {
  const FIVE_MB = 5 * 1024 * 1024;

  it("a 5 MB chunked upload arrives whole", async () => {
    const alice = await signIn("alice");
    const expected = await digestStream(patternStream(FIVE_MB));
    const response = await sendWith({}, "/upload", {
      method: "POST",
      token: alice.token,
      body: patternStream(FIVE_MB),
      headers: { "Content-Type": "application/octet-stream" },
    });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as { bytes: number; sha256: string; headers: Record<string, string> };
    expect(seen.bytes).toBe(FIVE_MB);
    expect(seen.sha256).toBe(expected.sha256);
    expect(seen.headers["x-clerk-user-id"]).toBe(SEED.users.alice.id);
  });

  it("a 5 MB download arrives whole", async () => {
    const alice = await signIn("alice");
    const expected = await digestStream(patternStream(FIVE_MB));
    const response = await sendWith({}, `/download?bytes=${FIVE_MB}`, { token: alice.token });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/octet-stream");
    expect(await digestStream(response.body as ReadableStream<Uint8Array>)).toEqual(expected);
  });

  it("the response starts before the origin has finished sending it", async () => {
    const alice = await signIn("alice");
    const started = Date.now();
    const response = await sendWith({}, "/drip?chunks=4&gap=300", { token: alice.token });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(first.done).toBe(false);
    let rest = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest++;
    const doneAt = Date.now() - started;
    expect(rest).toBeGreaterThan(0);
    // Buffered, the first byte would only come with the last, after ~900 ms of gaps.
    expect(doneAt - firstAt).toBeGreaterThanOrEqual(600);
  });

  it("the origin can answer before the upload has ended (the request is not buffered first)", async () => {
    const alice = await signIn("alice");
    let answered: () => void = () => undefined;
    const responded = new Promise<void>((resolve) => {
      answered = resolve;
    });
    let pulls = 0;
    // The second chunk (and the end) only come once the response is here: a gateway that
    // read the whole body before calling the origin would wait forever (and time out).
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls++;
        if (pulls === 1) {
          controller.enqueue(new Uint8Array(1024).fill(7));
          return;
        }
        await responded;
        controller.close();
      },
    });
    const response = await sendWith({}, "/first-chunk", { method: "POST", token: alice.token, body });
    answered();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ first: 1024 });
  });
});

describe("when the origin fails, the caller gets a clear 502 or 504 in Clerk's envelope", () => {
  it("a dropped connection: 502", async () => {
    const alice = await signIn("alice");
    const response = await sendWith({ ORIGIN_URL: `https://${DOWN_HOST}` }, "/api/me", { token: alice.token });
    expect(response.status).toBe(502);
    const body = await errorBody(response);
    expect(body.errors[0]).toMatchObject({
      code: "upstream_unavailable",
      long_message: "The origin could not be reached",
    });
    expect(JSON.stringify(body)).not.toContain(DOWN_HOST);
    expect(JSON.stringify(body)).not.toContain(TEST_ORIGIN_SECRET);
    expect((await originRequests()).map((r) => r.host)).toEqual([DOWN_HOST]);
  });

  it("no answer within ORIGIN_TIMEOUT_MS: 504 after about that long", async () => {
    const alice = await signIn("alice");
    const started = Date.now();
    const response = await call("/slow?ms=5000", { token: alice.token });
    const elapsed = Date.now() - started;
    expect(response.status).toBe(504);
    expect((await errorBody(response)).errors[0]?.long_message).toContain(
      `ORIGIN_TIMEOUT_MS (${TEST_ORIGIN_TIMEOUT_MS} ms)`,
    );
    expect(elapsed).toBeGreaterThanOrEqual(TEST_ORIGIN_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(4_000);
  });

  it("an origin that answers in time is not cut off while its body streams", async () => {
    const alice = await signIn("alice");
    // 4 chunks 500 ms apart: 1.5 s of body, longer than ORIGIN_TIMEOUT_MS (1 s).
    const response = await sendWith({}, "/drip?chunks=4&gap=500", { token: alice.token });
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(4 * 1024);
  });
});

describe("limits apply as on the gateway's own routes", () => {
  it("failed authentication counts per IP: 429 with Retry-After, and the origin is never called", async () => {
    const overrides = { RL_AUTH_FAILURES: testEnv.RL_TEST_PROXY_AUTH_FAILURES };
    const headers = { "CF-Connecting-IP": "203.0.113.9" };
    let refused: Response | undefined;
    for (let i = 0; i < 41 && !refused; i++) {
      const response = await sendWith(overrides, "/api/me", { token: "a.b.c", headers });
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(401);
    }
    expect(refused?.headers.get("Retry-After")).toBe("60");
    expect((await errorBody(refused as Response)).errors[0]?.code).toBe("rate_limit_exceeded");
    expect(await originRequests()).toEqual([]);
  });

  it("RL_PROXY limits requests per user (and per IP on public paths); refused ones never reach the origin", async () => {
    const alice = await signIn("alice");
    const overrides = { RL_PROXY: testEnv.RL_TEST_PROXY };
    const responses: Response[] = [];
    for (let i = 0; i < 7; i++) responses.push(await sendWith(overrides, "/api/me", { token: alice.token }));
    const statuses = responses.map((r) => r.status);
    const passed = statuses.filter((s) => s === 200).length;
    // Limit 3 in a fixed window: 3, or up to 6 if the window rolled over mid-test.
    expect(statuses).toContain(429);
    const refused = responses.find((r) => r.status === 429) as Response;
    expect(refused.headers.get("Retry-After")).toBe(String(RATE_LIMITS.RL_PROXY.period));
    expect((await errorBody(refused)).errors[0]?.code).toBe("rate_limit_exceeded");
    expect(passed).toBeGreaterThanOrEqual(3);
    expect(passed).toBeLessThanOrEqual(6);
    expect(await originRequests()).toHaveLength(passed);

    await clearOrigin();
    const ip = { "CF-Connecting-IP": "198.51.100.7" };
    const publicStatuses: number[] = [];
    for (let i = 0; i < 7; i++) publicStatuses.push((await sendWith(overrides, "/public", { headers: ip })).status);
    expect(publicStatuses).toContain(429);
    expect(await originRequests()).toHaveLength(publicStatuses.filter((s) => s === 200).length);
  });
});

describe("GATEWAY_BASE_PATH and the gateway's own routes", () => {
  it("the gateway's routes live under the base path; the origin owns /v1 outside it", async () => {
    const alice = await signIn("alice");
    const own = await call(`${TEST_BASE_PATH}/v1/me/sessions/active`, { token: alice.token });
    expect(own.status).toBe(200);
    expect(own.headers.get("X-Cache")).toBe("MISS");
    expect(Array.isArray(await own.json())).toBe(true);
    expect((await call(`${TEST_BASE_PATH}/healthz`)).status).toBe(200);
    expect(await originRequests()).toEqual([]);

    const originV1 = await call("/v1/me/sessions/active", { token: alice.token });
    expect((await echo(originV1)).path).toBe("/v1/me/sessions/active");
    // Segment-wise: /clerkish is not under /clerk.
    expect((await echo(await call("/clerkish", { token: alice.token }))).path).toBe("/clerkish");
  });

  it("without a base path the gateway keeps /v1, /webhooks and /healthz; everything else is the origin's", async () => {
    const alice = await signIn("alice");
    const root = { GATEWAY_BASE_PATH: "" };
    const own = await sendWith(root, "/v1/me/sessions/active", { token: alice.token });
    expect(own.headers.get("X-Cache")).toBe("MISS");
    expect((await sendWith(root, "/healthz")).status).toBe(200);
    expect((await sendWith(root, "/v1/invitations", { serviceKey: SERVICE_KEY })).status).toBe(404);
    expect(await originRequests()).toEqual([]);
    const page = await sendWith(root, "/devices", { token: alice.token });
    expect((await echo(page)).path).toBe("/devices");
  });

  it("a percent-encoded spelling of the gateway's namespace is the origin's, and authenticated like any origin path", async () => {
    // The router decodes `%76%31` to `v1`; the front door does not. Such a request must neither
    // reach the gateway's routes past the front door's split nor reach the origin unauthenticated.
    const alice = await signIn("alice");
    for (const [overrides, path] of [
      [{ GATEWAY_BASE_PATH: "" }, "/%76%31/me/sessions/active"],
      [{}, "/%63lerk/v1/me/sessions/active"],
      [{}, "/clerk%2Fv1/me/sessions/active"],
    ] as const) {
      await clearOrigin();
      await expectRefusedBeforeOrigin(await sendWith(overrides, path), 401, "authentication_invalid");
      const seen = await echo(await sendWith(overrides, path, { token: alice.token }));
      expect(seen.path).toBe(path);
      expect(seen.headers["x-clerk-user-id"]).toBe(SEED.users.alice.id);
    }
  });

  it("a base path without an origin: the gateway under it, a 404 elsewhere", async () => {
    const noOrigin = { ORIGIN_URL: "", PUBLIC_PATHS: "", ORIGIN_SHARED_SECRET: "", ORIGIN_ASSERTION_KEYS: "" };
    expect((await sendWith(noOrigin, `${TEST_BASE_PATH}/healthz`)).status).toBe(200);
    const elsewhere = await sendWith(noOrigin, "/v1/me/sessions/active");
    expect(elsewhere.status).toBe(404);
    expect((await errorBody(elsewhere)).errors[0]?.code).toBe("resource_not_found");
    expect(await originRequests()).toEqual([]);
  });
});

describe("bad proxy settings fail every request with a 500 naming the setting", () => {
  const cases: Array<[string, Record<string, string>]> = [
    ["ORIGIN_URL", { ORIGIN_URL: "ftp://origin.test" }],
    ["ORIGIN_URL", { ORIGIN_URL: "https://user:pass@origin.test" }],
    ["ORIGIN_URL", { ORIGIN_URL: "https://origin.test/?a=1" }],
    ["PUBLIC_PATHS", { PUBLIC_PATHS: "/" }],
    ["PUBLIC_PATHS", { PUBLIC_PATHS: "public" }],
    ["PUBLIC_PATHS", { PUBLIC_PATHS: "/public/../x" }],
    ["PUBLIC_PATHS", { PUBLIC_PATHS: "/pub%6cic" }],
    ["PUBLIC_PATHS", { ORIGIN_URL: "", ORIGIN_SHARED_SECRET: "" }],
    ["GATEWAY_BASE_PATH", { GATEWAY_BASE_PATH: "clerk" }],
    ["GATEWAY_BASE_PATH", { GATEWAY_BASE_PATH: "/cl erk" }],
    ["ORIGIN_SHARED_SECRET", { ORIGIN_SHARED_SECRET: "short" }],
    ["ORIGIN_TIMEOUT_MS", { ORIGIN_TIMEOUT_MS: "soon" }],
    ["ORIGIN_FORWARD_CREDENTIALS", { ORIGIN_FORWARD_CREDENTIALS: "no" }],
    ["BAPI_PASSTHROUGH", { BAPI_PASSTHROUGH: "users,../sessions" }],
    ["BAPI_PASSTHROUGH", { BAPI_PASSTHROUGH: "sessions" }],
  ];
  for (const [setting, overrides] of cases) {
    it(`${setting}=${JSON.stringify(Object.values(overrides)[0])}`, async () => {
      const response = await sendWith(overrides, "/api/me");
      expect(response.status).toBe(500);
      const body = await errorBody(response);
      expect(body.errors[0]?.meta).toEqual({ setting });
      expect(JSON.stringify(body)).not.toContain(TEST_ORIGIN_SECRET);
      expect(await originRequests()).toEqual([]);
    });
  }

  it("the origin URL may carry a path prefix", async () => {
    const alice = await signIn("alice");
    const response = await sendWith({ ORIGIN_URL: `${ORIGIN_URL}/app/` }, "/api/me?x=1", { token: alice.token });
    expect(await echo(response)).toMatchObject({ path: "/app/api/me", search: "?x=1" });
  });
});
