import { beforeEach, describe, expect, it } from "vitest";
import "../src/api/app";
// Registered only when an app reads c.get("clerk"): imported here so its bounds are held too.
import "../src/hono/backend-client";
// Registered by the app middleware (its configuration variant with azp unchecked).
import "../src/hono/auth";
import type { Session } from "../src/clerk/schemas";
import {
  BoundedMap,
  ENTRY_OVERHEAD_BYTES,
  ISOLATE_MEMORY,
  isolateMemoryUsage,
  type MemoryName,
  registeredMap,
  resetIsolateMemory,
} from "../src/core/isolate-memory";
import { SessionCache } from "../src/sessions/session-cache";
import { settled } from "../src/storage/kv-writer";
import { coldIsolate } from "./support/fresh-world";

/**
 * The registry of isolate memory (src/core/isolate-memory.ts): every structure an isolate keeps
 * between requests is registered, each is held to its entry bound and its byte bound, and
 * one call forgets all of them.
 */
beforeEach(coldIsolate);

const NAMES = Object.keys(ISOLATE_MEMORY) as MemoryName[];

function map(name: MemoryName): BoundedMap<unknown, unknown> {
  const found = registeredMap(name);
  if (!found) throw new Error(`${name} is not registered`);
  return found;
}

/**
 * One entry of each structure, shaped like what its owner stores: `i` makes the key unique,
 * `pad` makes the entry about that many bytes larger (through the key, or through the value
 * where the key is an object).
 */
const text = (i: number, pad: number) => `k${i}:${"x".repeat(pad)}`;
const stringKeyed =
  (value: () => unknown) =>
  (i: number, pad: number): [unknown, unknown] => [text(i, pad), value()];
const SAMPLES: Record<MemoryName, (i: number, pad: number) => [unknown, unknown]> = {
  sessionLists: stringKeyed(() => ({ fetched_at: 0, sessions: [] })),
  sessionLoadsInFlight: stringKeyed(() => Promise.resolve({ fetched_at: 0, sessions: [] })),
  sessionLoadsLanded: stringKeyed(() => ({ seq: 1, generation: 0, entry: { fetched_at: 0, sessions: [] } })),
  sessionGenerations: stringKeyed(() => 1),
  sessionUpdates: stringKeyed(() => Promise.resolve()),
  revokedHere: stringKeyed(() => true),
  recentRevocations: stringKeyed(() => 0),
  recentCursor: stringKeyed(() => ({
    state: { epoch: "e", cursor: 1, readAt: 0 },
    replica: "enam",
    overflowed: false,
  })),
  backgroundWork: stringKeyed(() => Promise.resolve()),
  recentReadFailures: stringKeyed(() => true),
  directoryFailures: stringKeyed(() => 0),
  webhookClaims: stringKeyed(() => true),
  notRevoked: stringKeyed(() => true),
  verifiedTokens: stringKeyed(() => ({ config: {}, claims: { sub: "user_1", sid: "sess_1" } })),
  sessionStatuses: stringKeyed(() => "active"),
  jwksStores: stringKeyed(() => ({})),
  pemKeys: stringKeyed(() => Promise.resolve({})),
  assertionKeys: stringKeyed(() => Promise.resolve({ published: [] })),
  kvQueued: stringKeyed(() => ({ value: "{}", ttl: 60, done: Promise.resolve() })),
  kvWriting: stringKeyed(() => ({ value: "{}", ttl: 60, done: Promise.resolve() })),
  kvLastWrite: stringKeyed(() => 0),
  upstreamBlocks: stringKeyed(() => 0),
  configs: (i, pad) => [{ i }, { secretKey: text(i, pad) }],
  backendClients: (i) => [{ i }, { users: {} }],
  gatewayEnvs: stringKeyed(() => new WeakMap()),
  appConfigs: (i, pad) => [{ i }, { secretKey: text(i, pad), azpUnchecked: true }],
  serviceKeyDigests: (_i, pad) => [
    Array.from({ length: Math.max(1, Math.ceil(pad / 32)) }, (_, k) => `key-${k}`),
    Promise.resolve([]),
  ],
};

describe("the registry of isolate memory", () => {
  it("holds every per-isolate structure, each with an entry bound and a byte bound", () => {
    const registered = isolateMemoryUsage().map((usage) => usage.name);
    expect([...registered].sort()).toEqual([...NAMES].sort());
    for (const usage of isolateMemoryUsage()) {
      expect(usage.maxEntries, usage.name).toBeGreaterThan(0);
      expect(usage.maxBytes, usage.name).toBeGreaterThan(0);
    }
  });

  it("keeps all the bounds together under a third of an isolate's 128 MiB", () => {
    const total = Object.values(ISOLATE_MEMORY).reduce((sum, bounds) => sum + bounds.maxBytes, 0);
    expect(total).toBeLessThanOrEqual((128 * 1024 * 1024) / 3);
  });

  it("forgets everything with one call", () => {
    for (const name of NAMES) {
      const [key, value] = SAMPLES[name](0, 0);
      expect(map(name).set(key, value), name).toBe(true);
    }
    expect(isolateMemoryUsage().every((usage) => usage.entries === 1 && usage.bytes > 0)).toBe(true);
    resetIsolateMemory();
    expect(isolateMemoryUsage().every((usage) => usage.entries === 0 && usage.bytes === 0)).toBe(true);
  });

  it("keeps only what it is told to keep", () => {
    for (const name of NAMES) {
      const [key, value] = SAMPLES[name](0, 0);
      map(name).set(key, value);
    }
    resetIsolateMemory({ keep: ["jwksStores"] });
    for (const usage of isolateMemoryUsage()) {
      expect(usage.entries, usage.name).toBe(usage.name === "jwksStores" ? 1 : 0);
    }
  });

  describe.each(NAMES)("%s", (name) => {
    const { maxEntries, maxBytes } = ISOLATE_MEMORY[name];

    it(`keeps at most ${maxEntries} entries, the oldest evicted first`, () => {
      const memory = map(name);
      const keys: unknown[] = [];
      for (let i = 0; i <= maxEntries; i++) {
        const [key, value] = SAMPLES[name](i, 0);
        keys.push(key);
        memory.set(key, value);
      }
      // Small entries reach the entry bound before the byte bound: both bounds are meant to bind.
      expect(memory.size).toBe(maxEntries);
      expect(memory.get(keys[0])).toBeUndefined();
      expect(memory.get(keys[maxEntries])).toBeDefined();
      expect(memory.bytes).toBeLessThanOrEqual(maxBytes);
    });

    it(`keeps at most ${maxBytes} bytes however few the entries`, () => {
      const memory = map(name);
      const pad = Math.floor(maxBytes / 4);
      const keys: unknown[] = [];
      for (let i = 0; i < 10; i++) {
        const [key, value] = SAMPLES[name](i, pad);
        keys.push(key);
        memory.set(key, value);
        expect(memory.bytes).toBeLessThanOrEqual(maxBytes);
      }
      expect(memory.bytes).toBeGreaterThan(pad);
      expect(memory.size).toBeLessThan(5);
      expect(memory.get(keys[0])).toBeUndefined();
      expect(memory.get(keys[9])).toBeDefined();
    });
  });
});

describe("no per-isolate structure outside the registry", () => {
  const sources = import.meta.glob("../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<
    string,
    string
  >;

  it("finds no module-level Map, WeakMap, WeakSet or growing Set in src/ but the registry's", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const [path, text] of Object.entries(sources)) {
      if (path.endsWith("/core/isolate-memory.ts")) continue;
      text.split("\n").forEach((line, index) => {
        // Module level is column 0; a Set built from a literal list is a constant, not memory.
        if (/^(export )?(const|let|var) \w+(: [^=]+)? = new (Map|WeakMap|WeakSet|Set(?!(<[^>]*>)?\(\[))\b/.test(line)) {
          found.push(`${path}:${index + 1}: ${line.trim()}`);
        }
      });
    }
    expect(found).toEqual([]);
  });
});

describe("BoundedMap", () => {
  it("evicts expired entries on insert, before any live one", () => {
    const memory = new BoundedMap<string, string>("test", { maxEntries: 3, maxBytes: 10_000 }, (v) => v.length);
    memory.set("short", "a", 10, 0);
    memory.set("long", "b", 1_000, 0);
    memory.set("other", "c", 5, 1);
    expect(memory.size).toBe(3);
    // At t=20 two entries have expired: an insert drops both and keeps the live one.
    memory.set("new", "d", 1_000, 20);
    expect(memory.size).toBe(2);
    expect(memory.get("long", 20)).toBe("b");
    expect(memory.get("new", 20)).toBe("d");
  });

  it("counts a key, its value and a fixed overhead, and gives the bytes back on delete and replace", () => {
    const memory = new BoundedMap<string, string>("test", { maxEntries: 10, maxBytes: 10_000 }, (v) => v.length);
    memory.set("abc", "12345");
    expect(memory.bytes).toBe(3 + 5 + ENTRY_OVERHEAD_BYTES);
    memory.set("abc", "1");
    expect(memory.bytes).toBe(3 + 1 + ENTRY_OVERHEAD_BYTES);
    memory.delete("abc");
    expect(memory.bytes).toBe(0);
  });

  it("does not keep a value larger than its whole byte bound, nor one with no time to live", () => {
    const memory = new BoundedMap<string, string>("test", { maxEntries: 10, maxBytes: 100 }, (v) => v.length);
    expect(memory.set("big", "x".repeat(100))).toBe(false);
    expect(memory.set("dead", "x", 0)).toBe(false);
    expect(memory.size).toBe(0);
    expect(memory.bytes).toBe(0);
  });

  it("deleteIf leaves a newer value in place", () => {
    const memory = new BoundedMap<string, object>("test", { maxEntries: 10, maxBytes: 10_000 }, () => 1);
    const older = {};
    const newer = {};
    memory.set("k", older);
    memory.set("k", newer);
    memory.deleteIf("k", older);
    expect(memory.get("k")).toBe(newer);
    memory.deleteIf("k", newer);
    expect(memory.get("k")).toBeUndefined();
  });
});

/** A session as Clerk returns it, with its latest activity: about 620 bytes of JSON. */
function session(userId: string, i: number): Session {
  const id = `sess_${userId.slice(5)}${String(i).padStart(6, "0")}`;
  return {
    object: "session",
    id,
    user_id: userId,
    client_id: `client_${userId.slice(5)}${String(i).padStart(6, "0")}`,
    status: "active",
    actor: null,
    last_active_organization_id: null,
    last_active_at: 1_790_000_000_000,
    latest_activity: {
      object: "session_activity",
      id: `sess_activity_${String(i).padStart(20, "0")}`,
      is_mobile: i % 2 === 0,
      device_type: "iPhone",
      browser_name: "Safari",
      browser_version: "18.2.0",
      ip_address: "203.0.113.42",
      city: "San Francisco",
      country: "US",
    },
    expire_at: 1_790_600_000_000,
    abandon_at: 1_792_500_000_000,
    updated_at: 1_790_000_000_000,
    created_at: 1_789_000_000_000,
    tasks: null,
  };
}

/** KV that keeps what it is given and accepts writes only when told to, so writes pile up in memory. */
function holdingKv() {
  const stored = new Map<string, string>();
  const pending: Array<() => void> = [];
  const kv = {
    get: async (key: string) => {
      const value = stored.get(key);
      return value === undefined ? null : JSON.parse(value);
    },
    put: (key: string, value: string) =>
      new Promise<void>((resolve) => {
        pending.push(() => {
          stored.set(key, value);
          resolve();
        });
      }),
    delete: async (key: string) => {
      stored.delete(key);
    },
  };
  const release = () => {
    for (const accept of pending.splice(0)) accept();
  };
  return { kv: kv as unknown as KVNamespace, release };
}

describe("an attack-sized load: many users with 500 sessions each", () => {
  it("keeps every structure within its byte bound while the gateway keeps answering", async () => {
    const USERS = 80;
    const SESSIONS = 500;
    const { kv, release } = holdingKv();
    const waits: Array<Promise<unknown>> = [];
    const cache = new SessionCache(kv, { freshSeconds: 30, staleSeconds: 3_600, waitUntil: (p) => waits.push(p) });
    const listBytes = JSON.stringify({
      fetched_at: 0,
      sessions: Array.from({ length: SESSIONS }, (_, i) => session("user_00000000000000000000", i)),
    }).length;
    // Each list is ~300 KB: 80 of them are ~24 MB, three times the session-list budget.
    expect(listBytes * USERS).toBeGreaterThan(2 * ISOLATE_MEMORY.sessionLists.maxBytes);

    const userIds = Array.from({ length: USERS }, (_, u) => `user_${String(u).padStart(20, "0")}`);
    const lists = new Map(userIds.map((id) => [id, Array.from({ length: SESSIONS }, (_, i) => session(id, i))]));
    // First reads: every user misses, its list is read from "Clerk" and queued for KV, which holds the writes.
    for (const userId of userIds) {
      const read = await cache.getActive(userId, async () => lists.get(userId) ?? []);
      expect(read.sessions).toHaveLength(SESSIONS);
    }
    const peak = isolateMemoryUsage();
    release();
    await Promise.allSettled(waits);
    await settled();
    // Second reads come from KV and fill the session-list memory.
    for (const userId of userIds) {
      const read = await cache.getActive(userId, async () => lists.get(userId) ?? []);
      expect(read.sessions).toHaveLength(SESSIONS);
    }
    const after = isolateMemoryUsage();

    for (const usage of [...peak, ...after]) {
      expect(usage.bytes, usage.name).toBeLessThanOrEqual(usage.maxBytes);
      expect(usage.entries, usage.name).toBeLessThanOrEqual(usage.maxEntries);
    }
    const used = (usages: typeof after, name: MemoryName) => usages.find((u) => u.name === name);
    // The bounds bound something: each of these structures held lists up to its budget and dropped the rest.
    expect(used(peak, "kvWriting")?.entries).toBeLessThan(USERS);
    expect(used(peak, "kvWriting")?.bytes).toBeGreaterThan(ISOLATE_MEMORY.kvWriting.maxBytes / 2);
    expect(used(peak, "sessionLoadsLanded")?.entries).toBeLessThan(USERS);
    expect(used(after, "sessionLists")?.entries).toBeLessThan(USERS);
    expect(used(after, "sessionLists")?.bytes).toBeGreaterThan(ISOLATE_MEMORY.sessionLists.maxBytes / 2);
    const total = after.reduce((sum, usage) => sum + usage.bytes, 0);
    expect(total).toBeLessThanOrEqual(Object.values(ISOLATE_MEMORY).reduce((sum, b) => sum + b.maxBytes, 0));
  });
});
