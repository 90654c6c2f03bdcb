import { describe, expect, it } from "vitest";
import { formatLogLine } from "../scripts/log-lines.mjs";
import { type RequestMetrics, requestLine } from "../src/http/request-log";

/** `npm start` shows the gateway's JSON log lines as one readable line each (scripts/log-lines.mjs). */
describe("npm start's request lines", () => {
  it("a user's cached read: method, route, status, who, cache, duration", () => {
    const line = JSON.stringify({
      level: "info",
      time: "2026-11-29T10:05:29.477Z",
      msg: "request",
      request_id: "936aca48",
      method: "GET",
      route: "/v1/me/sessions/active",
      status: 200,
      principal: "user",
      user_id: "user_alice0000000000000000000000",
      session_id: "sess_alicePhone00000000000000000",
      cache: "HIT",
      upstream_calls: 0,
      upstream_ms: 0,
      duration_ms: 3,
    });
    expect(formatLogLine(line)).toBe(
      "10:05:29 GET /v1/me/sessions/active → 200  user user_alice0000… sess_alicePhon…  cache HIT  3 ms",
    );
  });

  it("a refusal shows the error code and the logged reason; calls to Clerk are counted", () => {
    const refused = formatLogLine(
      '{"level":"info","time":"2026-11-29T10:05:29.516Z","msg":"request","method":"GET","route":"/v1/me/sessions","status":401,"principal":"anonymous","auth_failure":"expired","error_code":"authentication_invalid","upstream_calls":0,"upstream_ms":0,"duration_ms":8}',
    );
    expect(refused).toBe("10:05:29 GET /v1/me/sessions → 401  anonymous  authentication_invalid (expired)  8 ms");
    const upstream = formatLogLine(
      '{"level":"info","time":"2026-11-29T10:05:30.000Z","msg":"request","method":"POST","route":"/v1/sessions","status":200,"principal":"service","service_key":0,"upstream_calls":1,"upstream_ms":12,"duration_ms":15}',
    );
    expect(upstream).toBe("10:05:30 POST /v1/sessions → 200  service key #0  Clerk ×1 12 ms  15 ms");
  });

  it("audit lines, other JSON lines, wrangler's duplicates and plain text", () => {
    expect(
      formatLogLine(
        '{"level":"info","time":"2026-11-29T10:05:31.000Z","msg":"audit","actor":{"kind":"service","service_key":0},"action":"session.revoke","session_id":"sess_alicePhone00000000000000000","outcome":"ok","status":200}',
      ),
    ).toBe("10:05:31   audit session.revoke sess_alicePhon… ok, by service key #0");
    expect(
      formatLogLine('{"level":"warn","time":"2026-11-29T10:05:32.000Z","msg":"webhook_replayed","svix_id":"msg_1"}'),
    ).toBe("10:05:32 warn webhook_replayed svix_id=msg_1");
    expect(formatLogLine("[wrangler:info] GET /v1/me/sessions 401 Unauthorized (15ms)")).toBeNull();
    expect(formatLogLine("[wrangler:info] Ready on http://127.0.0.1:8787")).toBe(
      "[wrangler:info] Ready on http://127.0.0.1:8787",
    );
    expect(formatLogLine("{not json")).toBe("{not json");
  });
});

describe("the request log line is written as JSON text", () => {
  const metrics = (extra: Partial<RequestMetrics> = {}): RequestMetrics => ({
    route: "",
    startedAt: 0,
    verifyMs: 0,
    cacheMs: 0,
    upstream: { calls: 2, ms: 31, traceIds: [] } as unknown as RequestMetrics["upstream"],
    ...extra,
  });

  it("parses to the fields, in order, that the line has always had; strings are escaped", () => {
    const text = requestLine(
      {
        requestId: "r-1",
        principal: {
          kind: "user",
          userId: "user_a",
          sessionId: "sess_a",
          claims: {} as never,
          via: "header",
        },
      },
      "GET",
      '/odd"route\\',
      200,
      metrics({ cache: "HIT", clientRequestId: "c-1", directory: "fallback", recent: "unavailable" }),
      7,
    );
    const line = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual([
      "level",
      "time",
      "msg",
      "request_id",
      "client_request_id",
      "method",
      "route",
      "status",
      "principal",
      "user_id",
      "session_id",
      "cache",
      "directory",
      "recent",
      "upstream_calls",
      "memory_hits",
      "memory_misses",
      "memory_store_reads",
      "memory_directory_reads",
      "memory_log_reads",
      "upstream_ms",
      "duration_ms",
    ]);
    expect(line).toMatchObject({
      level: "info",
      msg: "request",
      route: '/odd"route\\',
      status: 200,
      upstream_calls: 2,
    });
    expect(typeof line.memory_hits).toBe("number");
  });

  it("a service and an anonymous caller, with a refusal's fields; absent fields are absent", () => {
    const service = JSON.parse(
      requestLine(
        { principal: { kind: "service", keyIndex: 1 } },
        "POST",
        "/v1/sessions",
        503,
        metrics({ errorCode: "directory_unavailable", setting: "X" }),
        3,
      ),
    ) as Record<string, unknown>;
    expect(service).toMatchObject({
      principal: "service",
      service_key: 1,
      error_code: "directory_unavailable",
      setting: "X",
    });
    expect("request_id" in service).toBe(false);
    const anonymous = JSON.parse(
      requestLine({}, "GET", "/v1/me", 401, metrics({ authFailure: "expired" }), 1),
    ) as Record<string, unknown>;
    expect(anonymous).toMatchObject({ principal: "anonymous", auth_failure: "expired" });
    expect("user_id" in anonymous || "cache" in anonymous).toBe(false);
  });
});
