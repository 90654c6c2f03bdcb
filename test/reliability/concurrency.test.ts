import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { SessionCache } from "../../src/sessions/session-cache";
import { KV_MIN_WRITE_INTERVAL_MS, kvKeys } from "../../src/storage/kv-schema";
import { queuedValue, settled, writeCoalesced } from "../../src/storage/kv-writer";
import { clerkSession, clerkSessions, SEED, type SignedIn, signIn } from "../support/emulator";
import { coldIsolate, useFreshWorld } from "../support/fresh-world";
import { call, SERVICE_KEY } from "../support/gateway";
import { carolWithColdList, listCalls } from "./support";

type SeedUser = "alice" | "bob" | "carol" | "dave";
const USERS: SeedUser[] = ["alice", "bob", "carol", "dave"];

/** Runs `tasks` with at most `width` in flight at once: interleaved, without a barrier per batch. */
async function pool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** A deterministic shuffle (mulberry32), so a failure replays the same interleaving. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

useFreshWorld();

describe("single flight: concurrent misses for one user cost one upstream call per isolate", () => {
  it("200 concurrent first requests for one user cause exactly one upstream list call", async () => {
    const { carol, reader } = await carolWithColdList();
    const before = await listCalls(carol);

    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? call("/v1/me/sessions/active", { token: reader.token })
          : call(`/v1/sessions?user_id=${carol}&status=active`, { serviceKey: SERVICE_KEY }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(await listCalls(carol)).toBe(before + 1);
    // All 200 share the one answer: every list names the reader's session.
    for (const response of responses) {
      const ids = ((await response.json()) as Array<{ id: string }>).map((s) => s.id);
      expect(ids).toContain(reader.session_id);
    }
    const cacheStatuses = new Set(responses.map((r) => r.headers.get("X-Cache")));
    expect([...cacheStatuses].every((s) => s === "MISS" || s === "HIT")).toBe(true);
  });
});

describe("revokes interleaved with reads: none is lost, and a revoked session never appears again", () => {
  it("1,000 reads and 50 revokes across four users", async () => {
    const TARGETS_PER_USER = [13, 13, 12, 12];
    const readers = new Map<SeedUser, SignedIn>();
    const targets: Array<{ user: SeedUser; session: SignedIn; viaBrowser: boolean }> = [];
    for (const [index, user] of USERS.entries()) {
      readers.set(user, await signIn(user));
      for (let i = 0; i < (TARGETS_PER_USER[index] as number); i++) {
        targets.push({ user, session: await signIn(user), viaBrowser: i % 2 === 0 });
      }
    }
    expect(targets).toHaveLength(50);

    // Warm each user's list (and the JWKS): one upstream list call per user.
    for (const user of USERS) {
      const response = await call("/v1/me/sessions/active", { token: readers.get(user)?.token as string });
      expect(response.status).toBe(200);
    }
    await settled();
    const warmCalls = new Map<SeedUser, number>();
    for (const user of USERS) warmCalls.set(user, await listCalls(SEED.users[user].id));

    // A logical clock: every operation records when it started and when it finished, so
    // "a read started after this revoke was confirmed" is exact, not a guess from batches.
    let clock = 0;
    const revokedAt = new Map<string, number>();
    type ReadResult = { user: SeedUser; startedAt: number; status: number; ids: string[]; as?: string };
    const reads: ReadResult[] = [];

    const readTask = (i: number) => async () => {
      const user = USERS[i % USERS.length] as SeedUser;
      const userId = SEED.users[user].id;
      const startedAt = ++clock;
      // Most reads are the reader's own browser list; some are a service's; some use a target's token.
      const kind = i % 10;
      let response: Response;
      let as: string | undefined;
      if (kind < 6) response = await call("/v1/me/sessions/active", { token: readers.get(user)?.token as string });
      else if (kind < 9)
        response = await call(`/v1/sessions?user_id=${userId}&status=active&limit=100`, { serviceKey: SERVICE_KEY });
      else {
        const mine = targets.filter((t) => t.user === user);
        const target = mine[i % mine.length] as (typeof targets)[number];
        as = target.session.session_id;
        response = await call("/v1/me/sessions/active", { token: target.session.token });
      }
      const ids = response.status === 200 ? ((await response.json()) as Array<{ id: string }>).map((s) => s.id) : [];
      reads.push({ user, startedAt, status: response.status, ids, ...(as ? { as } : {}) });
    };
    const revokeTask = (target: (typeof targets)[number]) => async () => {
      const id = target.session.session_id;
      const response = target.viaBrowser
        ? call(`/v1/me/sessions/${id}/revoke`, { method: "POST", token: readers.get(target.user)?.token as string })
        : call(`/v1/sessions/${id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
      const status = (await response).status;
      expect(status, `revoke of ${id}`).toBe(200);
      revokedAt.set(id, ++clock);
    };

    const tasks = shuffle(
      [...Array.from({ length: 1_000 }, (_, i) => readTask(i)), ...targets.map((t) => revokeTask(t))],
      20261122,
    );
    await pool(tasks, 64);

    // No revoke is lost: Clerk has every one, and KV holds every marker.
    expect(revokedAt.size).toBe(50);
    for (const target of targets) {
      expect((await clerkSession(target.session.session_id)).status).toBe("revoked");
    }
    await settled();
    for (const target of targets) {
      expect(await env.SESSION_CACHE.get(kvKeys.revoked(target.session.session_id))).not.toBeNull();
    }
    // Other isolates and locations see KV, not this isolate's memory: the stored lists must be right too.
    for (const user of USERS) {
      const stored = (await env.SESSION_CACHE.get(kvKeys.activeSessions(SEED.users[user].id), "json")) as {
        sessions: Array<{ id: string }>;
      } | null;
      const ids = (stored?.sessions ?? []).map((s) => s.id);
      for (const target of targets.filter((t) => t.user === user)) expect(ids).not.toContain(target.session.session_id);
    }

    // Every read that started after a revoke was confirmed leaves that session out, or is refused if it was that session's token.
    expect(reads).toHaveLength(1_000);
    let checked = 0;
    for (const read of reads) {
      for (const target of targets.filter((t) => t.user === read.user)) {
        const at = revokedAt.get(target.session.session_id) as number;
        if (read.startedAt <= at) continue;
        checked++;
        if (read.as === target.session.session_id) expect(read.status, `token of revoked ${read.as}`).toBe(401);
        else expect(read.ids).not.toContain(target.session.session_id);
      }
      if (read.as === undefined) expect(read.status).toBe(200);
    }
    expect(checked).toBeGreaterThan(1_000);

    // And afterwards: every revoked token is refused, every list is exactly Clerk's active sessions.
    for (const target of targets) {
      expect((await call("/v1/me/sessions/active", { token: target.session.token })).status).toBe(401);
    }
    for (const user of USERS) {
      const userId = SEED.users[user].id;
      const response = await call(`/v1/sessions?user_id=${userId}&status=active&limit=100`, {
        serviceKey: SERVICE_KEY,
      });
      const listed = ((await response.json()) as Array<{ id: string }>).map((s) => s.id).sort();
      const truth = (await clerkSessions(userId)).filter((s) => s.status === "active").map((s) => s.id);
      expect(listed).toEqual(truth.sort());
    }

    // Single-flight bound: after the warm-up, a user's list is re-read from Clerk at most once per
    // revoke of that user (a revoke can make a concurrent read's list provably old), never once per read.
    for (const [index, user] of USERS.entries()) {
      const extra = (await listCalls(SEED.users[user].id)) - (warmCalls.get(user) as number);
      expect(extra, `list calls for ${user}`).toBeLessThanOrEqual(TARGETS_PER_USER[index] as number);
    }
  }, 90_000);
});

describe("KV writes for one key are coalesced to one per second, and visible in the isolate at once", () => {
  /** A KV double that counts writes and can hold one open, so "during the write" is observable. */
  function countingKv() {
    const puts: string[] = [];
    let release: (() => void) | undefined;
    let hold = false;
    const kv = {
      put: async (_key: string, value: string) => {
        puts.push(value);
        if (hold) await new Promise<void>((resolve) => (release = resolve));
      },
      delete: async () => undefined,
    } as unknown as KVNamespace;
    return { kv, puts, hold: (on: boolean) => (hold = on), release: () => release?.() };
  }

  it("100 writes to one key in a burst become at most two KV writes, the last value winning", async () => {
    const { kv, puts } = countingKv();
    const key = `test:burst:${crypto.randomUUID()}`;
    const done = Array.from({ length: 100 }, (_, i) => writeCoalesced(kv, key, `v${i}`, 60));
    expect(queuedValue(key)).toBe("v99");
    // The first write goes at once; everything after it collapses into one write a second later
    // on the gateway's clock: held until the clock moves (a turn of the event loop is no second).
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(puts).toEqual(["v0"]);
    advanceClock(KV_MIN_WRITE_INTERVAL_MS);
    await Promise.all(done);
    expect(puts.length).toBeLessThanOrEqual(2);
    expect(puts.at(-1)).toBe("v99");
  });

  it("a value being written is what this isolate reads until KV has accepted it", async () => {
    const { kv, hold, release } = countingKv();
    const key = `test:inflight:${crypto.randomUUID()}`;
    hold(true);
    const done = writeCoalesced(kv, key, "new", 60);
    await Promise.resolve();
    expect(queuedValue(key)).toBe("new");
    release();
    await done;
    expect(queuedValue(key)).toBeUndefined();
  });

  it("concurrent removals from one user's cached list all stick (no lost update)", async () => {
    const userId = SEED.users.dave.id;
    const sessions = (await clerkSessions(SEED.users.alice.id)).filter((s) => s.status === "active");
    const extra = await Promise.all(Array.from({ length: 20 }, () => signIn("alice")));
    const all = [
      ...sessions,
      ...(await clerkSessions(SEED.users.alice.id)).filter((s) => extra.some((e) => e.session_id === s.id)),
    ];
    await env.SESSION_CACHE.put(
      kvKeys.activeSessions(userId),
      JSON.stringify({ fetched_at: Date.now(), sessions: all }),
    );
    coldIsolate();
    const cache = new SessionCache(env.SESSION_CACHE, {
      freshSeconds: 30,
      staleSeconds: 3600,
      waitUntil: () => undefined,
    });
    await Promise.all(extra.map((e) => cache.removeSession(userId, e.session_id)));
    await settled();
    const stored = (await env.SESSION_CACHE.get(kvKeys.activeSessions(userId), "json")) as {
      sessions: Array<{ id: string }>;
    };
    expect(stored.sessions.map((s) => s.id).sort()).toEqual(sessions.map((s) => s.id).sort());
  });
});
