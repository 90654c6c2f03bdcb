import { describe, expect, it } from "vitest";
import { authenticate, isCrossSiteCookieRequest, readCredential } from "../../src/auth/authenticate";
import type { GatewayConfig } from "../../src/config/settings";
import { parseConfig } from "../../src/config/settings";
import { TEST_PUBLISHABLE_KEY, TEST_SECRET_KEY } from "../support/config";

/**
 * The engine's order, without workerd: every case here is decided before anything is verified,
 * so a KV or Clerk that throws on touch proves nothing was fetched.
 */
const SERVICE_KEY = "svc_unit_test_key_0123456789abcdef";
const config: GatewayConfig = parseConfig({
  CLERK_SECRET_KEY: TEST_SECRET_KEY,
  CLERK_PUBLISHABLE_KEY: TEST_PUBLISHABLE_KEY,
  CLERK_AUTHORIZED_PARTIES: "https://app.example",
  GATEWAY_API_KEYS: SERVICE_KEY,
  SESSION_CACHE: untouchable("KV") as unknown as KVNamespace,
});
const A_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";

function untouchable(name: string): object {
  return new Proxy(
    {},
    {
      get: (_, member) => {
        throw new Error(`${name}.${String(member)} touched`);
      },
    },
  );
}

/** A failure limiter that records each key counted, and refuses once `limit` is reached. */
function limiter(limit = 100) {
  const keys: string[] = [];
  return {
    keys,
    binding: { limit: async ({ key }: { key: string }) => ({ success: keys.push(key) <= limit }) } as RateLimit,
  };
}

function deps(failures = limiter(), acceptServiceKeys = true) {
  return {
    config,
    env: { SESSION_CACHE: untouchable("KV") as unknown as KVNamespace, RL_AUTH_FAILURES: failures.binding },
    acceptServiceKeys,
    keys: untouchable("keys") as never,
    clerk: () => untouchable("clerk") as never,
  };
}

const request = (method: string, headers: Record<string, string>) => ({ method, headers: new Headers(headers) });

describe("readCredential", () => {
  it.each([
    [{}, null],
    [{ Authorization: "Bearer abc" }, { value: "abc", via: "header" }],
    [{ Authorization: "bearer   abc  " }, { value: "abc", via: "header" }],
    [{ Authorization: "Basic abc" }, "malformed"],
    [{ Authorization: "Bearer" }, "malformed"],
    [{ Authorization: "Bearer a b" }, "malformed"],
    [{ Cookie: "__session=abc; other=1" }, { value: "abc", via: "cookie" }],
    [{ Cookie: "__session=abc; __session=def" }, "ambiguous"],
    [{ Cookie: "__session_other=abc" }, null],
    [{ Cookie: "__session=" }, null],
    // The header wins: a cookie is what a browser adds on its own.
    [
      { Authorization: "Bearer abc", Cookie: "__session=def" },
      { value: "abc", via: "header" },
    ],
  ])("%j → %j", (headers, expected) => {
    expect(readCredential(new Headers(headers))).toEqual(expected);
  });
});

describe("isCrossSiteCookieRequest", () => {
  const parties = ["https://app.example"];
  it.each([
    ["GET", {}, "cookie", false],
    ["HEAD", {}, "cookie", false],
    ["POST", { Origin: "https://app.example" }, "cookie", false],
    ["POST", { Origin: "https://evil.example" }, "cookie", true],
    ["POST", {}, "cookie", true],
    ["DELETE", { Origin: "https://sibling.app.example" }, "cookie", true],
    ["GET", { Upgrade: "websocket", Origin: "https://evil.example" }, "cookie", true],
    ["GET", { Upgrade: "websocket" }, "cookie", true],
    ["GET", { Upgrade: "websocket", Origin: "https://app.example" }, "cookie", false],
    ["POST", { Origin: "https://evil.example" }, "header", false],
  ] as const)("%s %j via %s → %s", (method, headers, via, expected) => {
    expect(isCrossSiteCookieRequest(request(method, headers), via, parties)).toBe(expected);
  });
});

describe("authenticate: decided before verification, in the engine's order", () => {
  it("no credential: anonymous, nothing counted", async () => {
    const failures = limiter();
    expect(await authenticate(request("GET", {}), deps(failures))).toEqual({ kind: "anonymous" });
    expect(failures.keys).toEqual([]);
  });

  it("a malformed header or two session cookies: refused and counted against the address", async () => {
    const failures = limiter();
    const headers = { Authorization: "Token x", "CF-Connecting-IP": "203.0.113.9" };
    expect(await authenticate(request("GET", headers), deps(failures))).toEqual({
      kind: "refused",
      reason: "malformed_authorization",
      limited: false,
    });
    const cookies = { Cookie: "__session=a.b.c; __session=d.e.f", "CF-Connecting-IP": "203.0.113.9" };
    expect(await authenticate(request("GET", cookies), deps(failures))).toMatchObject({
      reason: "ambiguous_session_cookie",
    });
    expect(failures.keys).toEqual(["auth-failure:203.0.113.9", "auth-failure:203.0.113.9"]);
  });

  // Matching a key uses workerd's crypto.subtle.timingSafeEqual: tested in test/auth-refusals.test.ts.
  it("an opaque bearer where service keys are not taken is simply not a session token", async () => {
    const headers = { Authorization: `Bearer ${SERVICE_KEY}` };
    expect(await authenticate(request("GET", headers), deps(limiter(), false))).toMatchObject({
      kind: "refused",
      reason: "malformed",
    });
  });

  it("an opaque cookie is never a service key", async () => {
    const cookie = { Cookie: `__session=${SERVICE_KEY}` };
    expect(await authenticate(request("GET", cookie), deps())).toMatchObject({ kind: "refused", reason: "malformed" });
  });

  it("a cross-site cookie write or upgrade: 403 before the token is looked at, not counted", async () => {
    const cases: Record<string, string>[] = [
      { Cookie: `__session=${A_JWT}`, Origin: "https://evil.example" },
      { Cookie: `__session=${A_JWT}`, Upgrade: "websocket", Origin: "https://evil.example" },
    ];
    for (const headers of cases) {
      const failures = limiter();
      const method = "Upgrade" in headers ? "GET" : "POST";
      // KV, the key store and Clerk all throw if touched: the outcome is decided without them.
      expect(await authenticate(request(method, headers), deps(failures))).toEqual({
        kind: "cross_site",
        reason: "cross_site_cookie",
      });
      expect(failures.keys).toEqual([]);
    }
  });

  it("once the address failed too often: limited, still the precise reason", async () => {
    const failures = limiter(1);
    const headers = { Authorization: "Token x" };
    expect(await authenticate(request("GET", headers), deps(failures))).toMatchObject({ limited: false });
    expect(await authenticate(request("GET", headers), deps(failures))).toEqual({
      kind: "refused",
      reason: "malformed_authorization",
      limited: true,
    });
  });

  it("a limiter binding that throws is the operator's error, not a refusal", async () => {
    const broken = {
      limit: async () => {
        throw new Error("binding broken");
      },
    } as unknown as RateLimit;
    const d = { ...deps(), env: { ...deps().env, RL_AUTH_FAILURES: broken } };
    await expect(authenticate(request("GET", { Authorization: "Token x" }), d)).rejects.toThrow("binding broken");
  });
});
