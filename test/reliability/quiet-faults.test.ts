import { describe, expect, it } from "vitest";
import { isDropAftermath, isInjectedDropReport, quietInjectedDrops } from "../support/quiet-faults";

// Records exactly as workerd printed them for the emulator's `drop` fault (paths shortened).
const JS_REPORT = [
  "uncaught exception; source = Uncaught (in promise); stack = DropConnection: clerk-emulator: connection dropped (fault injection)",
  "    at faultResponse (file:///repo/emulator/dist/index.js:3016:13)",
  "    at handleBapi (file:///repo/emulator/dist/index.js:5008:39)",
  "    at async Object.fetch (file:///repo/emulator/dist/index.js:5063:37)",
  "",
].join("\n");
const JS_REPORT_ERROR = `uncaught exception; source = Uncaught (in promise); stack = Error: DropConnection: clerk-emulator: connection dropped (fault injection)\n`;
const RUNTIME_REPORT = [
  "uncaught exception; exception = workerd/jsg/value.h:1511: failed: jsg.Error: DropConnection: clerk-emulator: connection dropped (fault injection)",
  "stack: /repo/node_modules/@cloudflare/workerd-linux-64/bin/workerd@36c6fb0 /repo/node_modules/@cloudflare/workerd-linux-64/bin/workerd@36c7c0f",
  "",
].join("\n");
const REMOTE_REPORT =
  "exception = workerd/jsg/value.h:1511: failed: remote.jsg.Error: DropConnection: clerk-emulator: connection dropped (fault injection)\nstack: /x/workerd@5fb5c08\n";
// A proxy test's client breaking its upload off, then the runtime's pipe to the origin aborting.
const CLIENT_REPORT =
  "uncaught exception; exception = workerd/jsg/value.h:1511: failed: jsg.Error: test client: connection dropped (fault injection)\nstack: /x/workerd@2ea5580 /x/workerd@376cca0\n";
const AFTERMATH =
  "exception = kj/async-io.c++:763: disconnected: read end of pipe was aborted\nstack: /x/workerd@5f3c200 /x/workerd@3a403e7\n";

describe("test output: injected dropped connections are hidden, nothing else is", () => {
  it("recognises each form workerd reports an injected drop in", () => {
    for (const report of [JS_REPORT, JS_REPORT_ERROR, RUNTIME_REPORT, REMOTE_REPORT, CLIENT_REPORT]) {
      expect(isInjectedDropReport(report), report).toBe(true);
    }
  });

  it("keeps real errors, even ones that mention a drop", () => {
    const kept = [
      // A real uncaught exception of the gateway or the emulator.
      "uncaught exception; source = Uncaught (in promise); stack = TypeError: Cannot read properties of undefined (reading 'id')\n    at handler (file:///repo/src/index.ts:1:1)\n",
      // The drop report with anything that is not a stack frame after it.
      `${JS_REPORT}AssertionError: expected 502 to be 200\n`,
      // A test's own log line quoting the message.
      'test: {"error":"DropConnection: clerk-emulator: connection dropped (fault injection)"}\n',
      // Another exception class with the same message.
      "uncaught exception; source = Uncaught (in promise); stack = RangeError: DropConnection: clerk-emulator: connection dropped (fault injection)\n",
      "",
    ];
    for (const text of kept) expect(isInjectedDropReport(text), text).toBe(false);
  });

  it("counts what it hides, passes everything else through unchanged, and restores the stream", () => {
    const written: unknown[] = [];
    const original = (chunk: unknown, ..._rest: unknown[]) => {
      written.push(chunk);
      return true;
    };
    const stream = { write: original };
    const restore = quietInjectedDrops(stream);
    let called = 0;
    expect(stream.write(JS_REPORT, () => called++)).toBe(true);
    stream.write(new TextEncoder().encode(RUNTIME_REPORT));
    stream.write("a real error\n");
    const bytes = new TextEncoder().encode("bytes\n");
    stream.write(bytes);
    expect(called).toBe(1);
    expect(written).toEqual(["a real error\n", bytes]);
    expect(restore()).toBe(2);
    expect(stream.write).toBe(original);
  });

  it("hides the runtime's pipe-aborted record only as the aftermath of a hidden report, on either stream", () => {
    expect(isDropAftermath(AFTERMATH)).toBe(true);
    expect(isDropAftermath(`${AFTERMATH}AssertionError: no\n`)).toBe(false);
    const written: unknown[] = [];
    const sink = () => ({
      write: (chunk: unknown) => {
        written.push(chunk);
        return true;
      },
    });
    const [out, err] = [sink(), sink()];
    const restore = quietInjectedDrops(out, err);
    err.write(AFTERMATH); // nothing hidden before it: a real disconnect, shown
    out.write(CLIENT_REPORT);
    err.write(AFTERMATH); // right after the report, on the other stream: hidden
    err.write(AFTERMATH); // a second one is not the same drop's: shown
    expect(written).toEqual([AFTERMATH, AFTERMATH]);
    expect(restore()).toBe(1);
  });
});
