/**
 * @module
 * The gateway's one clock for its time-based rules: when isolate memory expires (the
 * registry in core/isolate-memory.ts: the "not revoked" memory, session lists, verified tokens,
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

/**
 * A sleep looks at the clock this often, so a test that moves the clock ends it within this
 * much wall time. No registry of sleepers is kept: nothing can pile up in an isolate that is
 * never moved, and the only sleeps are KV's write pacing, at most a second each.
 */
const SLEEP_SLICE_MS = 50;

/** Milliseconds since the epoch, on the gateway's clock. */
export function now(): number {
  return frozenAt ?? Date.now() + offsetMs;
}

/** Resolves once `ms` have passed, in wall time or on the gateway's clock, whichever comes first (a test moves the clock). */
export async function sleep(ms: number): Promise<void> {
  const until = now() + ms;
  const wallUntil = Date.now() + ms;
  while (now() < until && Date.now() < wallUntil) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(SLEEP_SLICE_MS, wallUntil - Date.now())));
  }
}

/** Tests: moves the gateway's clock `ms` forward (never back); sleeps it passes end within SLEEP_SLICE_MS. */
export function advanceClock(ms: number): void {
  if (!(ms >= 0)) throw new RangeError("the clock only moves forward");
  if (frozenAt === undefined) offsetMs += ms;
  else frozenAt += ms;
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
