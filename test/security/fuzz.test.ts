import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_ID } from "../../src/core/ids";
import worker from "../../src/index";
import { clearCalls, emulatorCalls, SEED, signClaims, signIn } from "../support/emulator";
import { captureConsole, freshWorld } from "../support/fresh-world";
import { call, GATEWAY_ORIGIN, gatewayRequest, SERVICE_KEY } from "../support/gateway";
import { findSecrets } from "../support/secret-scan";

/**
 * Property-based fuzzing across every route: 10,000 malformed requests (paths, params,
 * bodies, headers, tokens). Whatever arrives, the gateway never answers 5xx, every error is
 * Clerk's envelope, and input that fails validation or authentication never reaches Clerk.
 * (The JWKS endpoint is the one exception allowed, at most once per 30 s interval: forged
 * kids are tested in jwks.test.ts.)
 */

const INVALID_IDS = [
  "",
  "sess_",
  "sess_short",
  "sess_../../v1/users",
  "..",
  "%2e%2e",
  "sess_aliceDesktop000000000000000%2Frevoke",
  "sess_aliceDesktop000000000000000%00",
  "sess_ñandú0000000000000000000000",
  `sess_${"A".repeat(65)}`,
  "user_alice0000000000000000000000",
  "SESS_aliceDesktop000000000000000",
  " sess_aliceDesktop000000000000000",
  "x".repeat(2_000),
];
/** Each of these alone makes GET /v1/sessions a 400. */
const INVALID_LIST_PARAMS: Array<[string, string]> = [
  ...["-1", "0", "501", "abc", "1.5", "", "0x10", "1e2"].map((v): [string, string] => ["limit", v]),
  ...["-1", "abc", "1.5", "", "0x10"].map((v): [string, string] => ["offset", v]),
  ...["Active", "pending", "abc", ""].map((v): [string, string] => ["status", v]),
  ...["TRUE", "1", "yes", ""].map((v): [string, string] => ["paginated", v]),
  ...["user_x", "sess_aliceDesktop000000000000000", ""].map((v): [string, string] => ["user_id", v]),
  ...["client_x", ""].map((v): [string, string] => ["client_id", v]),
];
const VALID_IDS = [SEED.sessions.aliceDesktop.id, SEED.sessions.bobDesktop.id, "sess_doesNotExist0000000000000000"];
const encode = (s: string) => encodeURIComponent(s);

const invalidId = fc.oneof(
  fc.constantFrom(...INVALID_IDS),
  fc.string({ maxLength: 40 }).filter((s) => !SESSION_ID.test(s)),
  fc.stringMatching(/^sess_[A-Za-z0-9._~-]{0,80}$/).filter((s) => !SESSION_ID.test(s)),
);
const anyId = fc.oneof(invalidId, fc.constantFrom(...VALID_IDS));
const template = fc.oneof(
  fc.constantFrom("supabase", "internal_admin", "..", "a/b", "x".repeat(65), "%2F", "t%00"),
  fc.string({ maxLength: 70 }),
);

/** Routes that take a session id (and a template name). */
const idPath = (id: fc.Arbitrary<string>) =>
  fc.oneof(
    id.map((s) => `/v1/me/sessions/${encode(s)}/revoke`),
    id.map((s) => `/v1/sessions/${encode(s)}`),
    fc
      .tuple(id, fc.constantFrom("refresh", "revoke", "tokens", "verify", "", "tokens/"))
      .map(([s, action]) => `/v1/sessions/${encode(s)}/${action}`),
    fc.tuple(id, template).map(([s, t]) => `/v1/sessions/${encode(s)}/tokens/${encode(t)}`),
  );

const path = (id: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.constantFrom("/v1/me/sessions/active", "/v1/me/sessions", "/v1/sessions", "/webhooks/clerk", "/healthz"),
    idPath(id),
    fc.array(fc.string({ maxLength: 12 }), { maxLength: 6 }).map((parts) => `/${parts.map(encode).join("/")}`),
    fc.constantFrom("/v1/../v1/sessions", "//v1/sessions", "/v1/sessions/", "/V1/SESSIONS", "/v1/me/../sessions"),
  );

const queryValue = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.constantFrom("-1", "0", "501", "1e3", "1.5", "NaN", "9".repeat(20), "true", "TRUE", "active", "pending", "null"),
  fc.constantFrom(...VALID_IDS, SEED.users.alice.id, SEED.users.bob.id),
);
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        "user_id",
        "client_id",
        "status",
        "limit",
        "offset",
        "paginated",
        "_clerk_session_id",
        "suffixed_cookies",
        "__proto__",
        "constructor",
        "x",
      ),
      queryValue,
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs)}` : ""));

const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    "{",
    "[]",
    "null",
    '{"user_id":"user_alice0000000000000000000000","extra":1}',
    '{"__proto__":{"x":1}}',
  ),
  fc
    .record({
      expired_token: fc.string({ maxLength: 100 }),
      refresh_token: fc.string({ maxLength: 20 }),
      request_origin: fc.string({ maxLength: 20 }),
    })
    .map((v) => JSON.stringify(v)),
  fc
    .record({ expires_in_seconds: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)) })
    .map((v) => JSON.stringify(v)),
  fc.constant("x".repeat(20 * 1024)),
);
const contentType = fc.constantFrom(undefined, "application/json", "text/plain", "application/x-www-form-urlencoded");
const method = fc.constantFrom("GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");

type Fuzzed = {
  method: string;
  path: string;
  query: string;
  body: string | undefined;
  contentType: string | undefined;
  auth: string | undefined;
  cookie: string | undefined;
  origin: string | undefined;
  svix: boolean;
};

async function send(r: Fuzzed): Promise<Response> {
  const headers: Record<string, string> = {};
  if (r.auth !== undefined) headers.Authorization = r.auth;
  if (r.cookie !== undefined) headers.Cookie = `__session=${r.cookie}`;
  if (r.contentType) headers["Content-Type"] = r.contentType;
  if (r.origin) headers.Origin = r.origin;
  if (r.svix) {
    headers["svix-id"] = "msg_fuzz";
    headers["svix-timestamp"] = String(Math.floor(Date.now() / 1000));
    headers["svix-signature"] = "v1,Zm9v";
  }
  const hasBody = r.body !== undefined && r.method !== "GET" && r.method !== "HEAD";
  // An absolute URL: a path such as "//v1" must stay a path, not become a host. The worker is
  // called in-process, not through the exports RPC stub (measured: 12 s instead of 70 s for 10,000);
  // responses are scanned for secrets in checkResponse instead of by the suite-wide wrapper.
  return worker.fetch(
    gatewayRequest(`${GATEWAY_ORIGIN}${r.path}${r.query}`, {
      method: r.method,
      headers,
      ...(hasBody ? { body: r.body } : {}),
    }),
    env,
    createExecutionContext(),
  );
}

/** No 5xx; every error in Clerk's envelope. Returns the status. */
async function checkResponse(r: Fuzzed, response: Response): Promise<number> {
  const text = await response.text();
  const where = `${r.method} ${r.path}${r.query}`;
  const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
  expect(findSecrets(`${headers}\n${text}`), where).toEqual([]);
  expect(response.status, where).toBeLessThan(500);
  if (response.status >= 400 && r.method !== "HEAD") {
    const envelope = JSON.parse(text) as { errors: Array<Record<string, unknown>> };
    expect(Array.isArray(envelope.errors) && envelope.errors.length > 0, where).toBe(true);
    for (const error of envelope.errors) {
      expect(typeof error.code, where).toBe("string");
      expect(typeof error.message, where).toBe("string");
      expect(typeof error.long_message, where).toBe("string");
    }
  }
  return response.status;
}

/** Calls that reached Clerk, apart from the (interval-bounded) JWKS fetch. */
const sessionApiCalls = async () => (await emulatorCalls()).filter((c) => c.path !== "/v1/jwks");

/**
 * Ten thousand request log lines would be most of the run time (each one travels to vitest's
 * process), so they are captured here instead, and scanned for secrets like every other line.
 */
const logLeaks: string[] = [];
let logLines = 0;
captureConsole({
  scope: "file",
  print: false,
  onLine: (line) => {
    logLines++;
    logLeaks.push(...findSecrets(line));
  },
});
afterAll(() => {
  expect(logLines).toBeGreaterThan(10_000);
  expect(logLeaks).toEqual([]);
});

let forged: string[];
let aliceToken: string;

beforeAll(async () => {
  await freshWorld();
  const alice = await signIn("alice");
  aliceToken = alice.token;
  const [h, p] = alice.token.split(".");
  forged = [
    `${h}.${p}.`,
    await signClaims({ sub: SEED.users.alice.id, sid: alice.session_id, iss: "https://evil.example" }),
    await signClaims({ sub: SEED.users.alice.id }, { cat: "cl_B7d4PD222AAA" }),
    await signClaims({ sub: SEED.users.alice.id, sid: alice.session_id }, { kid: "ins_fuzz" }),
    await signClaims({ sub: SEED.users.alice.id, sid: alice.session_id }, {}, "invalid"),
  ];
  // Warm the JWKS, so the one fetch an isolate may make is already behind us.
  expect((await call("/v1/me/sessions/active", { token: aliceToken })).status).toBe(200);
  await clearCalls();
});

const badAuth = () =>
  fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      "Bearer",
      "Bearer ",
      "Basic Zm9vOmJhcg==",
      `Bearer ${"x".repeat(9_000)}`,
      "Bearer gw_test_wrong_0000000000",
    ),
    fc.constantFrom(...forged).map((t) => `Bearer ${t}`),
    fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
    fc.string({ maxLength: 40 }),
  );

describe("malformed requests with no valid credential: no 5xx, Clerk's envelope, nothing reaches Clerk", () => {
  it("6,000 requests across every route", async () => {
    let count = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method,
          path: path(anyId),
          query,
          body,
          contentType,
          auth: badAuth(),
          cookie: fc.option(fc.oneof(fc.constantFrom(...forged), fc.string({ maxLength: 30 })), { nil: undefined }),
          origin: fc.option(fc.constantFrom("https://evil.example", "http://localhost:8787", "null"), {
            nil: undefined,
          }),
          svix: fc.boolean(),
        }),
        async (r) => {
          count++;
          const status = await checkResponse(r, await send(r));
          // Nothing succeeds without a credential but the health check, the landing page and CORS preflights.
          // Judged on the path as the URL parser normalises it (`/.` and `/%2e` are `/`), as the router sees it.
          const path = new URL(`${GATEWAY_ORIGIN}${r.path}${r.query}`).pathname;
          const open =
            path === "/healthz" ||
            (path === "/" && (r.method === "GET" || r.method === "HEAD")) ||
            r.method === "OPTIONS";
          if (status < 300) expect(open, `${r.method} ${r.path}`).toBe(true);
        },
      ),
      { numRuns: 6_000 },
    );
    expect(count).toBe(6_000);
    expect(await sessionApiCalls()).toEqual([]);
  }, 180_000);
});

describe("malformed input with valid credentials: a 4xx in Clerk's envelope before any call to Clerk", () => {
  it("4,000 requests: invalid ids, params and bodies from a signed-in user and from a service", async () => {
    const invalidRequest = fc.oneof(
      // An id that is not a Clerk id, on every route that takes one.
      fc.record({
        method: fc.constantFrom("GET", "POST"),
        path: idPath(invalidId),
        query: fc.constant(""),
        body: fc.constant(undefined),
      }),
      // Out-of-range or malformed list parameters.
      fc.record({
        method: fc.constant("GET"),
        path: fc.constant("/v1/sessions"),
        query: fc.constantFrom(...INVALID_LIST_PARAMS).map((pair) => `?${new URLSearchParams([pair])}`),
        body: fc.constant(undefined),
      }),
      // Bodies a write route must refuse.
      fc.record({
        method: fc.constant("POST"),
        path: fc.constantFrom(
          `/v1/sessions/${SEED.sessions.aliceDesktop.id}/tokens`,
          `/v1/sessions/${SEED.sessions.aliceDesktop.id}/revoke`,
          "/v1/sessions",
        ),
        query: fc.constant(""),
        body: fc.oneof(
          fc.constantFrom(
            "{",
            "[]",
            "null",
            '"x"',
            '{"unknown":1}',
            '{"expires_in_seconds":5}',
            '{"user_id":"user_x"}',
          ),
          fc
            .dictionary(
              fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== "expires_in_seconds"),
              fc.jsonValue({ maxDepth: 1 }),
              { minKeys: 1, maxKeys: 3 },
            )
            .map((v) => JSON.stringify(v)),
          fc.constant("x".repeat(20 * 1024)),
        ),
      }),
      // _clerk_session_id that is malformed.
      fc.record({
        method: fc.constant("GET"),
        path: fc.constantFrom("/v1/me/sessions/active", "/v1/me/sessions"),
        query: invalidId.map((s) => `?${new URLSearchParams([["_clerk_session_id", s]])}`),
        body: fc.constant(undefined),
      }),
    );
    let count = 0;
    await fc.assert(
      fc.asyncProperty(invalidRequest, fc.boolean(), async (shape, asService) => {
        count++;
        const r: Fuzzed = {
          ...shape,
          contentType: shape.body === undefined ? undefined : "application/json",
          auth: `Bearer ${asService ? SERVICE_KEY : aliceToken}`,
          cookie: undefined,
          origin: undefined,
          svix: false,
        };
        const status = await checkResponse(r, await send(r));
        expect(status, `${r.method} ${r.path}${r.query}`).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 4_000 },
    );
    expect(count).toBe(4_000);
    expect(await sessionApiCalls()).toEqual([]);
  }, 180_000);
});
