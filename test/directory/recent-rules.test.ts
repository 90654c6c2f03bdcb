import { describe, expect, it } from "vitest";
import { CLOCK_SKEW_SECONDS, SESSION_TOKEN_LIFETIME_SECONDS } from "../../src/auth/session-token";
import {
  COVERED_CLOCK_SKEW_SECONDS,
  COVERED_TOKEN_LIFETIME_SECONDS,
  coveredByWindow,
  freshness,
  type LogAnswer,
  planMerge,
  pruneWindow,
  RECENT_MAX_STALE_MS,
  RECENT_REFRESH_MS,
  RECENT_WINDOW_MS,
  REFRESH_MIN_MS,
  refreshAfter,
} from "../../src/revocation/recent-rules";

/**
 * The pure rules of the recent set (src/revocation/recent-rules.ts), each with `now` passed in:
 * no clock, no object, no timing.
 */
const NOW = 1_800_000_000_000;
const answer = (epoch: string, seq: number, entries: Array<[number, string, number]>, count = entries.length) =>
  ({ epoch, seq, entries: entries.map(([s, sid, at]) => ({ seq: s, sid, at })), count }) satisfies LogAnswer;

describe("the window is the life of the tokens it judges", () => {
  it("is Clerk's 60 s token plus the allowed clock skew, the auth layer's own constants", () => {
    expect(COVERED_TOKEN_LIFETIME_SECONDS).toBe(SESSION_TOKEN_LIFETIME_SECONDS);
    expect(COVERED_CLOCK_SKEW_SECONDS).toBe(CLOCK_SKEW_SECONDS);
    expect(RECENT_WINDOW_MS).toBe((SESSION_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) * 1000);
  });

  it("covers a live token of Clerk's lifetime or less; not a longer-lived one, nor one past exp + skew", () => {
    const iat = NOW / 1000 - 10;
    expect(coveredByWindow({ iat, exp: iat + 60 }, NOW)).toBe(true);
    expect(coveredByWindow({ iat, exp: iat + 30 }, NOW)).toBe(true);
    expect(coveredByWindow({ iat, exp: iat + 61 }, NOW)).toBe(false);
    expect(coveredByWindow({ iat, exp: iat + 3600 }, NOW)).toBe(false);
    // Used past its expiry (a refresh's expired_token): its session may have ended before the window.
    const old = NOW / 1000 - 120;
    expect(coveredByWindow({ iat: old, exp: old + 60 }, NOW)).toBe(false);
    // Within the skew after exp, still covered; at exp + skew, not.
    expect(coveredByWindow({ iat: NOW / 1000 - 64, exp: NOW / 1000 - 4 }, NOW)).toBe(true);
    expect(coveredByWindow({ iat: NOW / 1000 - 65, exp: NOW / 1000 - 5 }, NOW)).toBe(false);
  });

  it("prunes entries appended RECENT_WINDOW_MS ago or earlier, keeps younger ones", () => {
    const entries = [
      { seq: 1, sid: "sess_old", at: NOW - RECENT_WINDOW_MS },
      { seq: 2, sid: "sess_edge", at: NOW - RECENT_WINDOW_MS + 1 },
      { seq: 3, sid: "sess_new", at: NOW },
    ];
    expect(pruneWindow(entries, NOW).map((e) => e.sid)).toEqual(["sess_edge", "sess_new"]);
    expect(pruneWindow(entries, NOW + 1).map((e) => e.sid)).toEqual(["sess_new"]);
  });
});

describe("staleness: when the held set may answer", () => {
  it("no set is stale; a set answers alone below its refresh age, starts a refresh past it, and answers nothing from RECENT_MAX_STALE_MS", () => {
    expect(freshness(undefined, NOW, 900)).toBe("stale");
    const held = { readAt: NOW };
    expect(freshness(held, NOW, 900)).toBe("fresh");
    expect(freshness(held, NOW + 899, 900)).toBe("fresh");
    expect(freshness(held, NOW + 900, 900)).toBe("refresh");
    expect(freshness(held, NOW + RECENT_MAX_STALE_MS - 1, 900)).toBe("refresh");
    expect(freshness(held, NOW + RECENT_MAX_STALE_MS, 900)).toBe("stale");
    expect(freshness(held, NOW + 60_000, 900)).toBe("stale");
  });

  it("the refresh age is drawn in [800, 1000] ms, below the staleness limit", () => {
    expect(refreshAfter(0)).toBe(REFRESH_MIN_MS);
    expect(refreshAfter(0.5)).toBe(900);
    expect(refreshAfter(0.999999)).toBeLessThanOrEqual(RECENT_REFRESH_MS);
    expect(refreshAfter(5)).toBe(RECENT_REFRESH_MS);
    expect(REFRESH_MIN_MS).toBe(800);
    expect(RECENT_REFRESH_MS).toBe(1_000);
    expect(RECENT_MAX_STALE_MS).toBe(1_200);
    expect(RECENT_MAX_STALE_MS).toBeGreaterThan(RECENT_REFRESH_MS);
  });
});

describe("cursor merge", () => {
  it("a first answer is taken whole (in the window), with its position and the read's start as the set's age", () => {
    const plan = planMerge(
      undefined,
      answer("e1", 3, [
        [1, "sess_gone", NOW - RECENT_WINDOW_MS - 5],
        [2, "sess_a", NOW - 1_000],
        [3, "sess_b", NOW - 10],
      ]),
      NOW - 20,
      NOW,
    );
    expect(plan.reset).toBe(true);
    expect(plan.add.map((e) => e.sid)).toEqual(["sess_a", "sess_b"]);
    expect(plan.state).toEqual({ epoch: "e1", cursor: 3, readAt: NOW - 20 });
  });

  it("a delta adds what is after the cursor and moves it", () => {
    const held = { epoch: "e1", cursor: 3, readAt: NOW - 1_000 };
    const plan = planMerge(
      held,
      answer("e1", 5, [
        [3, "sess_b", NOW - 1_010],
        [4, "sess_c", NOW - 500],
        [5, "sess_d", NOW - 5],
      ]),
      NOW - 2,
      NOW,
    );
    expect(plan.reset).toBe(false);
    expect(plan.add.map((e) => e.sid)).toEqual(["sess_c", "sess_d"]);
    expect(plan.state).toEqual({ epoch: "e1", cursor: 5, readAt: NOW - 2 });
  });

  it("an empty delta keeps the entries and only makes the set younger", () => {
    const held = { epoch: "e1", cursor: 9, readAt: NOW - 1_000 };
    const plan = planMerge(held, answer("e1", 9, [], 4), NOW, NOW);
    expect(plan).toEqual({ reset: false, add: [], state: { epoch: "e1", cursor: 9, readAt: NOW } });
  });

  it("a new epoch (the replica lost its storage) replaces the set, whatever the old cursor", () => {
    const held = { epoch: "e1", cursor: 900, readAt: NOW - 1_000 };
    const plan = planMerge(held, answer("e2", 2, [[2, "sess_x", NOW - 5]]), NOW, NOW);
    expect(plan.reset).toBe(true);
    expect(plan.add.map((e) => e.sid)).toEqual(["sess_x"]);
    expect(plan.state).toEqual({ epoch: "e2", cursor: 2, readAt: NOW });
  });

  it("an answer to a read that started before the held one changes nothing: the set never goes back in time", () => {
    const held = { epoch: "e1", cursor: 7, readAt: NOW - 100 };
    const plan = planMerge(held, answer("e1", 6, [[6, "sess_y", NOW - 300]]), NOW - 400, NOW);
    expect(plan).toEqual({ reset: false, add: [], state: held });
  });
});
