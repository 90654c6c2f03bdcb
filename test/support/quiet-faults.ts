/**
 * Keeps workerd's reports of the emulator's injected dropped connections out of the test output.
 *
 * The fault modes `drop` and `hang` make the emulator's fetch handler throw `DropConnection`, so
 * the gateway's fetch() rejects as it would on a reset connection (the strongest form of the
 * fault: no status, no headers). workerd reports every such throw as an "uncaught exception"
 * with a stack, about 140 lines over a full run, which buried any real error at the top of the
 * output. A Worker has no quieter way to fail a fetch before the response: a body stream that
 * errors is reported the same way, and would also hand the caller a status first.
 *
 * So the run filters exactly those reports, and nothing else: the vitest pool writes each workerd
 * log record with one write to stdout (these come at level "log") or stderr, and a record is
 * dropped only if its first line is an uncaught-exception report of the emulator's DropConnection
 * and every further line is a stack frame. Anything else (a different error, a record mixing in
 * other text) is written unchanged. The number hidden is printed once at the end of the run.
 */

/**
 * The emulator's injected drop, the proxy tests' origin dropping a connection (test/proxy/origin),
 * and a client's upload breaking off (the body stream test/proxy/aborted-upload.proxy.test.ts errors).
 */
const MARKERS = [
  "DropConnection: clerk-emulator: connection dropped (fault injection)",
  "test origin: connection dropped (fault injection)",
  "test client: connection dropped (fault injection)",
];
/**
 * What the runtime adds after an injected drop that cut a request body short (the gateway was
 * still streaming it to the origin): its pipe's read end aborted. Generic on its own, so it is
 * hidden only as the record written right after a hidden report.
 */
const AFTERMATH = /^exception = kj\/async-io\.c\+\+:\d+: disconnected: read end of pipe was aborted$/;
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const FIRST_LINE = new RegExp(
  "^(?:uncaught exception; )?(?:" +
    // The JS view: `source = Uncaught (in promise); stack = [Error: ]DropConnection: …`
    "source = Uncaught \\(in promise\\); stack = (?:Error: )?" +
    "|" +
    // The runtime's view: `exception = workerd/jsg/value.h:1511: failed: [remote.]jsg.Error: DropConnection: …`
    "exception = workerd/jsg/[\\w.]+:\\d+: failed: (?:remote\\.)?jsg\\.Error: " +
    `)(?:${MARKERS.map(escaped).join("|")})$`,
);
/** A JS stack frame (`    at fn (file:///…:1:2)`) or workerd's native one (`stack: /…/workerd@36c6fb0 …`). */
const STACK_LINE = /^(?: {4}at \S.*|stack:(?: \S+@[0-9a-f]+)+)$/;

/** True when `text` (one stderr write) is nothing but a report of an injected dropped connection. */
export function isInjectedDropReport(text: string): boolean {
  return isRecord(text, FIRST_LINE);
}

/** True when `text` is nothing but the runtime's pipe-aborted record, the aftermath of a cut body. */
export function isDropAftermath(text: string): boolean {
  return isRecord(text, AFTERMATH);
}

function isRecord(text: string, firstLine: RegExp): boolean {
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  const [first, ...rest] = lines;
  return first !== undefined && firstLine.test(first) && rest.every((line) => STACK_LINE.test(line));
}

// biome-ignore lint/suspicious/noExplicitAny: the signature of Node's Writable.write, with its overloads
type Write = (chunk: any, ...rest: any[]) => boolean;

/**
 * Wraps `write` of each stream so injected-drop reports are counted instead of written (the
 * streams share one memory of the last record, so an aftermath is recognised whichever stream it
 * comes on). Returns a function that restores the streams and returns how many were hidden.
 */
export function quietInjectedDrops(...streams: Array<{ write: Write }>): () => number {
  let hidden = 0;
  let afterReport = false;
  const restores = streams.map((stream) => {
    const original = stream.write;
    const write: Write = (chunk, ...rest) => {
      const text =
        typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? new TextDecoder().decode(chunk) : "";
      const report = MARKERS.some((marker) => text.includes(marker)) && isInjectedDropReport(text);
      const aftermath = !report && afterReport && isDropAftermath(text);
      afterReport = report;
      if (report || aftermath) {
        if (report) hidden++;
        // Honour a callback, as a real write would.
        const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
        callback?.();
        return true;
      }
      return original.call(stream, chunk, ...rest);
    };
    stream.write = write;
    return () => {
      if (stream.write === write) stream.write = original;
    };
  });
  return () => {
    for (const restore of restores) restore();
    return hidden;
  };
}

const RUN = Symbol.for("clerk-session-gateway/test/quiet-faults");
type RunState = { projects: number; restore: () => number };

/**
 * For each test project's global setup: hides the reports once for the whole run, whichever
 * projects run (all three, or one with `--project`). The last teardown restores the output and
 * says how many reports were hidden. (Each project loads its setup apart: the state is global.)
 */
export function quietInjectedDropsForRun(): () => void {
  const shared = globalThis as { [RUN]?: RunState };
  shared[RUN] ??= { projects: 0, restore: quietInjectedDrops(process.stdout, process.stderr) };
  const state = shared[RUN];
  state.projects++;
  return () => {
    state.projects--;
    if (state.projects > 0) return;
    delete shared[RUN];
    const hidden = state.restore();
    if (hidden > 0) {
      console.log(
        `${hidden} workerd reports of injected dropped connections (emulator, proxy tests' origin and client) were hidden (test/support/quiet-faults.ts).`,
      );
    }
  };
}
