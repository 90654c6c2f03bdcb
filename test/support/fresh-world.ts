/**
 * One fixture for a test that needs the world as it was at the start: every test file uses it
 * instead of its own mix of resets, so a test cannot pass only because an earlier one left
 * something behind (a cached list, a revocation marker, a remembered lookup, a 429 block).
 *
 * A fresh world is, in this order:
 * 1. the gateway's queued KV writes of the previous test have landed (so none lands later, in
 *    the middle of the next test), the clock moved past KV's one-write-per-second pacing so
 *    they land at once;
 * 2. "Clerk" reseeded: the emulator's users and sessions, call log, faults and webhook outbox
 *    (its signing key stays, so the gateway's key cache stays valid);
 * 3. every binding's storage wiped (KV: cached lists, revocation markers, JWKS, webhook ids;
 *    Durable Object storage too), through `cloudflare:test`'s `reset()`;
 * 4. a cold isolate: nothing remembered in front of KV, no upstream block, the gateway's clock
 *    back to wall time (`coldIsolate()`).
 *
 * Console capture is here too, for the files that read what the gateway logs.
 */
import { reset } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, beforeEach, type MockInstance, vi } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { resetIsolateMemory } from "../../src/core/isolate-memory";
import { KV_MIN_WRITE_INTERVAL_MS } from "../../src/storage/kv-schema";
import { settled } from "../../src/storage/kv-writer";
import { resetEmulator } from "./emulator";

/**
 * Forgets everything this isolate remembers between requests, as a new isolate would start.
 * The one place the tests reset isolate memory (and the gateway's clock, with it).
 */
export function coldIsolate(): void {
  // Every structure of the registry (src/core/isolate-memory.ts), including Clerk's 429 blocks (a 429 in
  // one test blocks calls to Clerk for its Retry-After; the next test starts unblocked), but the
  // signing keys: the emulator keeps its key across reseeds, so the keys stay valid, and a test's
  // count of calls to Clerk is then the calls its own requests made, not a key fetch.
  resetIsolateMemory({ keep: ["jwksStores", "pemKeys"] });
}

/** Makes the world fresh now (see the module comment for what that is). */
export async function freshWorld(): Promise<void> {
  // A write waiting for its turn waits on the gateway's clock: moving it ends the wait.
  const landed = settled();
  advanceClock(KV_MIN_WRITE_INTERVAL_MS);
  await landed;
  await resetEmulator();
  await reset();
  coldIsolate();
}

/** A fresh world before each test of the file (or once for the file, for files whose tests share setup). */
export function useFreshWorld(scope: "each" | "file" = "each"): void {
  if (scope === "each") beforeEach(freshWorld);
  else beforeAll(freshWorld);
}

const LEVELS = ["log", "info", "warn", "error", "debug"] as const;
export type ConsoleLevel = (typeof LEVELS)[number];

export interface ConsoleCapture {
  /** Every console line of the current capture (arguments joined by spaces), oldest first. */
  readonly lines: string[];
  /** The lines that are JSON objects (the gateway's structured log lines), parsed. */
  json(): Record<string, unknown>[];
}

export interface CaptureOptions {
  /** "each" (default): a new capture for every test; "file": one capture over the whole file. */
  scope?: "each" | "file";
  /**
   * Also print the lines (default true), so the run's secret scan (vitest.config.ts) sees them
   * and a failing test shows them. A file that logs tens of thousands of lines on purpose, or
   * that scans every line itself, passes false.
   */
  print?: boolean;
  /** Called with each line as it is logged. */
  onLine?: (line: string, level: ConsoleLevel) => void;
}

/**
 * Captures what the gateway (and the test) writes to the console, installed and restored by
 * the file's hooks. Read `capture.lines` inside a test.
 */
export function captureConsole(options: CaptureOptions = {}): ConsoleCapture {
  const { scope = "each", print = true, onLine } = options;
  const lines: string[] = [];
  const capture: ConsoleCapture = {
    lines,
    json: () =>
      lines.flatMap((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
            ? [parsed as Record<string, unknown>]
            : [];
        } catch {
          return [];
        }
      }),
  };
  let spies: MockInstance[] = [];
  const install = () => {
    lines.length = 0;
    spies = LEVELS.map((level) => {
      const original = console[level].bind(console);
      return vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        const line = args.map(String).join(" ");
        lines.push(line);
        onLine?.(line, level);
        if (print) original(...args);
      });
    });
  };
  // Only these spies are restored: a file's own mocks are its business.
  const restore = () => {
    for (const spy of spies) spy.mockRestore();
    spies = [];
  };
  if (scope === "each") {
    beforeEach(install);
    afterEach(restore);
  } else {
    beforeAll(install);
    afterAll(restore);
  }
  return capture;
}
