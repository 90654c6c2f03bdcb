/**
 * @module
 * The gateway's one clock for its time-based rules: when isolate memory expires (the
 * registry in cache/memory.ts: the "not revoked" memory, session lists, verified tokens,
 * Clerk's 429 blocks), whether a cached list is still fresh, whether a token has expired,
 * how long a token has lived, when the signing keys may be fetched again, and KV's
 * one-write-per-second pacing. In production it is wall time. Tests move it forward
 * (`advanceClock`) instead of sleeping, so a rule about a second is checked in no time
 * and cannot flake on a loaded machine.
 *
 * Only this isolate's clock moves: the Clerk emulator is another Worker with wall time,
 * so the tokens it mints carry wall-time `iat`/`exp`, and KV's own expiry is KV's.
 * Durations measured for logs and timeouts on network calls stay on `Date.now()` and
 * real timers: they are about real time spent, not about a rule.
 */

/** How far tests have moved the clock ahead of wall time. Only ever 0 in production. */
let offsetMs = 0;
/** Tests: the clock stopped at this time (moved only by `advanceClock`), or undefined when it runs. */
let frozenAt: number | undefined;

type Waiter = { until: number; wake: () => void };
/** Waits begun with `sleep`, so moving the clock past their end ends them at once. */
const waiters = new Set<Waiter>();

/** Milliseconds since the epoch, on the gateway's clock. */
export function now(): number {
  return frozenAt ?? Date.now() + offsetMs;
}

/** Resolves once the gateway's clock has moved `ms` forward: in wall time, or sooner when a test moves it. */
export function sleep(ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    const waiter: Waiter = {
      until: now() + ms,
      wake: () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      },
    };
    const timer = setTimeout(waiter.wake, ms);
    waiters.add(waiter);
  });
}

/** Tests: moves the gateway's clock `ms` forward (never back), ending the waits it passes. */
export function advanceClock(ms: number): void {
  if (!(ms >= 0)) throw new RangeError("the clock only moves forward");
  if (frozenAt === undefined) offsetMs += ms;
  else frozenAt += ms;
  const at = now();
  for (const waiter of [...waiters]) if (waiter.until <= at) waiter.wake();
}

/**
 * Tests: stops the clock where it is, so a rule at a boundary ("accepted until exp + 5 s") can
 * be checked to the millisecond however slowly the test runs. Keep such a test short: tokens
 * the emulator mints carry wall-time `iat`, which the gateway refuses once it is more than the
 * allowed skew ahead of a stopped clock.
 */
export function freezeClock(): void {
  frozenAt = now();
}

/** Tests: back to wall time, running. Call it with the isolate's memory forgotten, or entries would outlive their time. */
export function resetClock(): void {
  offsetMs = 0;
  frozenAt = undefined;
}
