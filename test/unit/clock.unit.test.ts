import { afterEach, describe, expect, it } from "vitest";
import { advanceClock, freezeClock, now, resetClock, sleep } from "../../src/core/clock";

/** The gateway's clock (src/core/clock.ts): wall time unless a test moves or stops it. */
afterEach(resetClock);

describe("the gateway's clock", () => {
  it("is wall time until moved, then ahead of it by exactly the move", () => {
    const before = Date.now();
    expect(now()).toBeGreaterThanOrEqual(before);
    expect(now()).toBeLessThanOrEqual(Date.now());
    advanceClock(5_000);
    const wall = Date.now();
    expect(now() - wall).toBeGreaterThanOrEqual(5_000);
    expect(now() - Date.now()).toBeLessThanOrEqual(5_000);
    resetClock();
    expect(now()).toBeLessThanOrEqual(Date.now());
  });

  it("stopped, it moves only when advanced", async () => {
    freezeClock();
    const at = now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(now()).toBe(at);
    advanceClock(1);
    expect(now()).toBe(at + 1);
  });

  it("never moves back", () => {
    expect(() => advanceClock(-1)).toThrow(RangeError);
    expect(() => advanceClock(Number.NaN)).toThrow(RangeError);
  });

  it("ends a sleep when moved past its end, and not before", async () => {
    freezeClock();
    let woke = false;
    const slept = sleep(60_000).then(() => (woke = true));
    advanceClock(59_999);
    await Promise.resolve();
    expect(woke).toBe(false);
    advanceClock(1);
    await slept;
    expect(woke).toBe(true);
  });

  it("sleeps in wall time when nobody moves it", async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
