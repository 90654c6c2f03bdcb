import { beforeEach, describe, expect, it } from "vitest";
import { signIn } from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";
import { type CallOptions, call, errorBody } from "../support/gateway";
import { DOWN_HOST } from "./config";
import { clearOrigin, digestStream, originRequests, patternStream, sendWith } from "./support";

/**
 * Uploads the client does not finish, through the proxy front door. The gateway streams the
 * body to the origin itself (no src/http/body-limit.ts read first), so it must tell "the client's body
 * broke" from "the origin failed": the first is the client's doing, a 400 like the gateway's
 * own routes give, with no error-level log line (anyone could raise false 5xx alerts with it);
 * the origin must never receive a cut body that looks complete.
 *
 * Two ways in: `call` goes through the runtime like a real connection (the gateway sees the
 * Content-Length and a body that stops short); `sendWith` hands the gateway the client's
 * stream itself, which is how a dropped connection shows when no length was announced (the
 * runtime between two Workers in one process ends a chunked body cleanly instead).
 */

useFreshWorld();
beforeEach(clearOrigin);

const logged: { level: string; line: string }[] = [];
captureConsole({ onLine: (line, level) => logged.push({ level, line }) });
beforeEach(() => {
  logged.length = 0;
});
const requestLines = () =>
  logged.flatMap(({ line }) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return parsed.msg === "request" ? [parsed] : [];
    } catch {
      return [];
    }
  });

/** A few bytes, then the connection drops (`aborted`) or the body just ends (`ended`). */
function brokenBody(kind: "aborted" | "ended"): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"exp'));
      // What a dropped connection looks like to the gateway; marked, so the run hides the runtime's report of it.
      if (kind === "aborted") controller.error(new Error("test client: connection dropped (fault injection)"));
      else controller.close();
    },
  });
}

function upload(token: string, body: ReadableStream<Uint8Array>, length?: number): CallOptions {
  return {
    method: "POST",
    token,
    headers: {
      "Content-Type": "application/json",
      ...(length !== undefined ? { "Content-Length": String(length) } : {}),
    },
    body,
    duplex: "half",
  } as CallOptions;
}

async function expectIncomplete(response: Response) {
  expect(response.status).toBe(400);
  expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  expect((await errorBody(response)).errors[0]?.code).toBe("request_body_incomplete");
}

function expectQuietFourHundred() {
  expect(logged.filter((l) => l.level === "error")).toEqual([]);
  const lines = requestLines();
  expect(lines.map((l) => [l.level, l.route, l.status, l.error_code])).toEqual([
    ["info", "proxy", 400, "request_body_incomplete"],
  ]);
}

describe("a body cut short by the client is a 400, never a 502 blamed on the origin", () => {
  const cases = [
    { name: "Content-Length: 100, 5 bytes, then the connection drops", kind: "aborted", length: 100 },
    { name: "Content-Length: 100, 5 bytes, then the body ends", kind: "ended", length: 100 },
  ] as const;
  for (const { name, kind, length } of cases) {
    for (const [via, send] of [
      ["through the runtime", (options: CallOptions) => call("/upload", options)],
      ["as the gateway's own stream", (options: CallOptions) => sendWith({}, "/upload", options)],
    ] as const) {
      it(`${name} (${via}): 400, one info line, and the origin never got a whole body`, async () => {
        const alice = await signIn("alice");
        logged.length = 0;
        await expectIncomplete(await send(upload(alice.token, brokenBody(kind), length)));
        expectQuietFourHundred();
        // Whether the origin was already asked depends on how far the request got before the
        // break (the body streams: nothing waits for its end); either way it was told 100 bytes
        // were coming and its read of them failed: it never finished a body to act on.
        const seen = await originRequests();
        expect(seen.map((r) => [r.path, r.headers["content-length"], r.sha256])).toEqual(
          seen.map(() => ["/upload", "100", null]),
        );
        expect(seen.length).toBeLessThanOrEqual(1);
      });
    }
  }

  it("a chunked upload whose connection drops midway: 400, and the origin's answer to the part it got is dropped", async () => {
    const alice = await signIn("alice");
    logged.length = 0;
    const response = await sendWith({}, "/upload", upload(alice.token, brokenBody("aborted")));
    await expectIncomplete(response);
    expectQuietFourHundred();
    // The origin request is torn down, not ended: no finished body, not even the 5 bytes sent.
    expect((await originRequests()).filter((r) => r.sha256 !== null)).toEqual([]);
  });

  it("more bytes than the Content-Length announced: 400, the origin never finishes a body", async () => {
    const alice = await signIn("alice");
    logged.length = 0;
    // 64-byte chunks: the second one runs past the 100 announced, before any of it is sent on.
    // (Over HTTP the runtime frames bodies by Content-Length itself; this is the gateway's own check.)
    const response = await sendWith({}, "/upload", upload(alice.token, patternStream(200, 64), 100));
    await expectIncomplete(response);
    expect(logged.filter((l) => l.level === "error")).toEqual([]);
    expect((await originRequests()).filter((r) => r.sha256 !== null)).toEqual([]);
  });
});

describe("whole uploads and the origin's own failures are told apart", () => {
  it("a complete upload with a Content-Length reaches the origin with that length and every byte", async () => {
    const alice = await signIn("alice");
    const size = 300_000;
    const expected = await digestStream(patternStream(size));
    const response = await call("/upload", upload(alice.token, patternStream(size), size));
    expect(response.status).toBe(200);
    const [seen] = await originRequests();
    expect(seen?.headers["content-length"]).toBe(String(size));
    expect(seen?.headers["transfer-encoding"]).toBeUndefined();
    expect({ bytes: seen?.bytes, sha256: seen?.sha256 }).toEqual(expected);
  });

  it("a whole body to an origin that drops the connection is still the origin's failure: 502", async () => {
    const alice = await signIn("alice");
    const body = new TextEncoder().encode('{"complete":true}');
    const response = await sendWith(
      { ORIGIN_URL: `https://${DOWN_HOST}` },
      "/upload",
      upload(alice.token, new Blob([body]).stream(), body.byteLength),
    );
    expect(response.status).toBe(502);
    expect((await errorBody(response)).errors[0]?.code).toBe("upstream_unavailable");
    expect((await originRequests()).map((r) => r.host)).toEqual([DOWN_HOST]);
  });
});
