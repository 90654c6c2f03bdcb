/**
 * The bench's runtime: builds the Workers, runs all of them in ONE Miniflare (workerd)
 * instance, each on its own loopback socket (`unsafeDirectSockets`: no dev tooling in the
 * path), and gives the scenarios what they need to drive and observe them: the emulator's
 * admin API, autocannon, workerd's CPU time, the gateway's isolate-memory counters and a
 * V8 profiler.
 *
 * Workers:
 * - gateway / gateway-nocache: the gateway as built (`wrangler.toml`), the second with the
 *   session cache off (TTL 0). Their Durable Objects come from `wrangler.toml`.
 * - gateway-kv-only: the same bundle without the SESSION_DIRECTORY binding (KV markers only, the
 *   fallback for deployments without it), on the gateway's KV namespace: the revocation check's
 *   cost with the object is the difference between the two on the same warm read.
 * - baseline: `@clerk/backend` on every request (bench/baseline/).
 * - floor: the floors, one route each (bench/floors/index.mjs).
 * - app-clerk-hono / app-ours: the same Hono handler behind `@clerk/hono` and behind ours
 *   (bench/apps/). Ours binds the gateway's KV namespace and Durable Objects, as an app
 *   Worker deployed beside the gateway would.
 * - clerk-emulator: upstream for all of them (Miniflare `outboundService`: their fetch to
 *   https://api.clerk.com lands on it, host preserved; nothing reaches the network).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { buildWorker, ROOT } from "./bundle-size.mjs";
import { CONNECTIONS, LATENCY_MS, PORT, PROFILE } from "./config.mjs";

export const HOST = "127.0.0.1";
export const ORIGIN = "http://localhost:8787";
const COMPAT = "2026-10-01";
const SECRET_KEY = "sk_test_localDevEmulatorKey_notASecret_0123456789";
const PUBLISHABLE_KEY = "pk_test_aGFwcHktaGlwcG8tNDIuY2xlcmsuYWNjb3VudHMuZGV2JA";
const API_URL = "https://api.clerk.com";
/** The entry the middleware scenario imports; absent on builds without the middleware package. */
export const OUR_MIDDLEWARE = join(ROOT, "src", "hono", "index.ts");

export const ports = {
  gateway: PORT,
  nocache: PORT + 1,
  baseline: PORT + 2,
  emulator: PORT + 3,
  floor: PORT + 4,
  appClerkHono: PORT + 5,
  appOurs: PORT + 6,
  kvOnly: PORT + 7,
  inspector: PORT + 8,
};
export const url = (name, path = "") => `http://${HOST}:${ports[name]}${path}`;

// ---------------------------------------------------------------- build

/**
 * `wrangler deploy --dry-run --minify` of every Worker (offline) into bench/dist/. The app
 * with our middleware is built only when src/hono/index.ts exists and exports what it
 * imports: otherwise `ours` says why, and its scenarios are reported as not available.
 */
export function buildAll() {
  const dist = join(ROOT, "bench", "dist");
  const scripts = {
    gateway: buildWorker("wrangler.toml", join(dist, "gateway")),
    emulator: buildWorker("emulator/wrangler.toml", join(dist, "emulator")),
    baseline: buildWorker("bench/baseline/wrangler.toml", join(dist, "baseline")),
    appClerkHono: buildWorker("bench/apps/clerk-hono/wrangler.toml", join(dist, "app-clerk-hono")),
    appOurs: null,
    floor: join(ROOT, "bench", "floors", "index.mjs"),
  };
  let oursUnavailable = null;
  if (!existsSync(OUR_MIDDLEWARE)) {
    oursUnavailable = "not available on this build (no src/hono/index.ts)";
  } else {
    const source = readFileSync(OUR_MIDDLEWARE, "utf8");
    const missing = ["clerkMiddleware", "getAuth"].filter((name) => !new RegExp(`\\b${name}\\b`).test(source));
    if (missing.length > 0) {
      oursUnavailable = `not available on this build (src/hono/index.ts has no ${missing.join(", ")})`;
    } else {
      try {
        scripts.appOurs = buildWorker("bench/apps/ours/wrangler.toml", join(dist, "app-ours"));
      } catch (error) {
        oursUnavailable = `not available on this build (${error.message})`;
      }
    }
  }
  return { scripts, oursUnavailable };
}

/**
 * The gateway's Durable Object bindings, read from wrangler.toml (none until the
 * configuration declares some). `scriptName` binds another Worker's class instead of
 * defining it again, so every Worker here sees the same objects.
 */
function gatewayDurableObjects(scriptName) {
  const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") }, { hideWarnings: true });
  const sqlite = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
  return Object.fromEntries(
    (config.durable_objects?.bindings ?? []).map((b) => [
      b.name,
      {
        className: b.class_name,
        useSQLite: sqlite.has(b.class_name),
        ...(scriptName ? { scriptName } : b.script_name ? { scriptName: b.script_name } : {}),
      },
    ]),
  );
}

// ---------------------------------------------------------------- isolate memory counters

/**
 * The gateway's request log line carries its isolate's memory counters (`memory_hits`,
 * `memory_misses`, totals since the isolate started). Only the newest gateway line is kept
 * (a string, parsed on demand), so the log costs the bench nothing under load.
 */
let lastGatewayLine = null;
/** Errors the Workers log are shown (the first few, then a count): a bench that hides a 500's cause measures nothing. */
const SHOWN_ERRORS = 10;
let errorLines = 0;
function onLog(log) {
  const message = log?.message;
  if (typeof message !== "string") return;
  if (message.includes('"memory_hits"')) lastGatewayLine = message;
  if (log.level === "error") {
    errorLines++;
    if (errorLines <= SHOWN_ERRORS) console.error(`  [worker error] ${message.slice(0, 600)}`);
  }
}
export const workerErrorCount = () => errorLines;
export function memoryCounters() {
  if (!lastGatewayLine) return null;
  try {
    const line = JSON.parse(lastGatewayLine.slice(lastGatewayLine.indexOf("{")));
    return {
      hits: line.memory_hits,
      misses: line.memory_misses,
      storeReads: line.memory_store_reads,
      // Absent on builds that do not count them: null, never a made-up figure (the report says "n/a").
      directoryReads: line.memory_directory_reads ?? null,
      logReads: line.memory_log_reads ?? null,
    };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- Miniflare

/** The gateway's service key in the bench (GATEWAY_API_KEYS): the revoke scenario uses it. */
export const SERVICE_KEY = "gw_dev_localServiceKey_0001";

export function startRuntime(scripts) {
  const gatewayVars = {
    CLERK_SECRET_KEY: SECRET_KEY,
    CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
    CLERK_API_URL: API_URL,
    CLERK_API_VERSION: "2026-05-12",
    CLERK_AUTHORIZED_PARTIES: `${ORIGIN},http://127.0.0.1:8787`,
    GATEWAY_API_KEYS: SERVICE_KEY,
    SESSION_CACHE_TTL_SECONDS: "30",
  };
  // What an app Worker sets for @clerk/hono. Not CLERK_API_VERSION: @clerk/hono reads that name as
  // the Backend API's path segment ("v1"); the gateway reads it as the dated Clerk-API-Version.
  const appVars = { CLERK_SECRET_KEY: SECRET_KEY, CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY, CLERK_API_URL: API_URL };
  // Ours: the same, plus the gateway's settings it shares (authorized parties, API version).
  const ourAppVars = {
    ...appVars,
    CLERK_API_VERSION: gatewayVars.CLERK_API_VERSION,
    CLERK_AUTHORIZED_PARTIES: gatewayVars.CLERK_AUTHORIZED_PARTIES,
  };
  const direct = (name) => [{ host: HOST, port: ports[name] }];
  const workers = [
    {
      name: "gateway",
      modules: true,
      scriptPath: scripts.gateway,
      compatibilityDate: COMPAT,
      bindings: gatewayVars,
      kvNamespaces: { SESSION_CACHE: "bench-gateway" },
      durableObjects: gatewayDurableObjects(),
      outboundService: "clerk-emulator",
      unsafeDirectSockets: direct("gateway"),
    },
    {
      name: "gateway-nocache",
      modules: true,
      scriptPath: scripts.gateway,
      compatibilityDate: COMPAT,
      // 0 disables the session cache: every /v1/me/sessions/active read goes to Clerk.
      bindings: { ...gatewayVars, SESSION_CACHE_TTL_SECONDS: "0" },
      kvNamespaces: { SESSION_CACHE: "bench-gateway-nocache" },
      durableObjects: gatewayDurableObjects("gateway"),
      outboundService: "clerk-emulator",
      unsafeDirectSockets: direct("nocache"),
    },
    {
      name: "gateway-kv-only",
      modules: true,
      scriptPath: scripts.gateway,
      compatibilityDate: COMPAT,
      bindings: gatewayVars,
      // The gateway's namespace (its lists and markers), but no Durable Object bindings: no SESSION_DIRECTORY.
      kvNamespaces: { SESSION_CACHE: "bench-gateway" },
      outboundService: "clerk-emulator",
      unsafeDirectSockets: direct("kvOnly"),
    },
    {
      name: "baseline",
      modules: true,
      scriptPath: scripts.baseline,
      compatibilityDate: COMPAT,
      compatibilityFlags: ["nodejs_compat"],
      bindings: {
        CLERK_SECRET_KEY: SECRET_KEY,
        CLERK_API_URL: API_URL,
        CLERK_AUTHORIZED_PARTIES: gatewayVars.CLERK_AUTHORIZED_PARTIES,
      },
      outboundService: "clerk-emulator",
      unsafeDirectSockets: direct("baseline"),
    },
    {
      name: "floor",
      modules: true,
      scriptPath: scripts.floor,
      compatibilityDate: COMPAT,
      // The gateway's own namespace: the KV floor reads the very keys the cached read reads.
      kvNamespaces: { KV: "bench-gateway" },
      durableObjects: { FLOOR: { className: "FloorObject", useSQLite: true } },
      unsafeDirectSockets: direct("floor"),
    },
    {
      name: "app-clerk-hono",
      modules: true,
      scriptPath: scripts.appClerkHono,
      compatibilityDate: COMPAT,
      compatibilityFlags: ["nodejs_compat"],
      bindings: appVars,
      outboundService: "clerk-emulator",
      unsafeDirectSockets: direct("appClerkHono"),
    },
    ...(scripts.appOurs
      ? [
          {
            name: "app-ours",
            modules: true,
            scriptPath: scripts.appOurs,
            compatibilityDate: COMPAT,
            compatibilityFlags: ["nodejs_compat"],
            bindings: ourAppVars,
            // The gateway's state: revocations made through it are refused here at once.
            kvNamespaces: { SESSION_CACHE: "bench-gateway" },
            durableObjects: gatewayDurableObjects("gateway"),
            outboundService: "clerk-emulator",
            unsafeDirectSockets: direct("appOurs"),
          },
        ]
      : []),
    {
      name: "clerk-emulator",
      modules: true,
      scriptPath: scripts.emulator,
      compatibilityDate: COMPAT,
      bindings: {
        CLERK_SECRET_KEY: SECRET_KEY,
        CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
        CLERK_WEBHOOK_SIGNING_SECRET: "whsec_bG9jYWwtZGV2LWVtdWxhdG9yLXdlYmhvb2tz",
        INSTANCE_ID: "ins_2happyHippo42EmulatorInstance",
        LATENCY_MS: String(LATENCY_MS),
        DEFAULT_AZP: ORIGIN,
      },
      unsafeDirectSockets: direct("emulator"),
    },
  ];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      log: new Log(LogLevel.WARN),
      cf: false,
      ...(PROFILE ? { inspectorPort: ports.inspector } : {}),
      // Every request writes a JSON log line (it still costs the Worker the console.log): only the counters are kept.
      handleStructuredLogs: onLog,
      workers,
    }),
  );
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    await mf.dispose().catch(() => {});
    process.exit(code);
  };
  process.on("SIGINT", () => stop(130));
  process.on("SIGTERM", () => stop(143));
  return { mf, stop };
}

// ---------------------------------------------------------------- driving

export async function json(method, target, body) {
  const res = await fetch(target, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json", origin: ORIGIN },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${target}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

export const emulator = {
  users: (prefix, n) =>
    pool(
      Array.from({ length: n }, (_, i) => `${prefix}_${String(i).padStart(4, "0")}`),
      8,
      async (username) => (await json("POST", url("emulator", "/__emulator/users"), { username })).id,
    ),
  signIn: (userId) => json("POST", url("emulator", "/__dev/sign_in"), { user_id: userId, origin: ORIGIN }),
  /** A fresh 60 s token for each session (tokens must not expire mid-scenario). */
  tokens: (sessionIds) =>
    pool(
      sessionIds,
      8,
      async (sid) => (await json("POST", url("emulator", `/__dev/sessions/${sid}/token`), { origin: ORIGIN })).jwt,
    ),
  clearCalls: () => json("DELETE", url("emulator", "/__emulator/calls")),
  calls: async () => (await json("GET", url("emulator", "/__emulator/calls"))).calls.length,
};

/**
 * autocannon run. With a `requests` list, connection i starts at its own offset in it, so
 * the connections spread over all users and tokens instead of walking the list in step.
 */
export function cannon(opts) {
  const connections = opts.connections ?? CONNECTIONS;
  const list = opts.requests;
  let client = 0;
  const setupClient = list
    ? (c) => {
        const offset = Math.floor((client++ * list.length) / connections) % list.length;
        c.setRequests([...list.slice(offset), ...list.slice(0, offset)]);
      }
    : undefined;
  return new Promise((resolve, reject) => {
    autocannon(
      { connections, pipelining: 1, timeout: 10, ...opts, ...(setupClient ? { setupClient } : {}) },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Open-loop load at a fixed rate: request i is sent at start + i / rate whether or not the
 * earlier ones have been answered, over as many keep-alive sockets as it takes. Latency is
 * measured per request, from sending to the end of the answer, in fractional ms.
 *
 * Not autocannon's `overallRate`: that gives each connection a per-second budget it spends
 * in a burst at the top of every second (a queue the server never sees at a real fixed
 * rate), and corrects for coordinated omission with an expected interval of 1 ms, which
 * fills the histogram with made-up samples. `requests` rotate as in `cannon`.
 */
export async function openLoop({ url: target, rate, duration, requests }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const base = new URL(target);
  const total = Math.max(1, Math.round(rate * duration));
  const latencies = [];
  let non2xx = 0;
  let errors = 0;
  const send = (i) =>
    new Promise((resolve) => {
      const spec = requests?.[i % requests.length];
      const t0 = performance.now();
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          path: spec?.path ?? `${base.pathname}${base.search}`,
          method: spec?.method ?? "GET",
          headers: spec?.headers ?? {},
          timeout: 10_000,
        },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => {
            if (res.statusCode >= 200 && res.statusCode < 300) latencies.push(performance.now() - t0);
            else non2xx++;
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const interval = 1000 / rate;
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(i));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const round2 = (v) => Number(v.toFixed(2));
  return {
    requests: { total: latencies.length + non2xx },
    duration: (total * interval) / 1000,
    latency: {
      p50: round2(percentile(latencies, 50)),
      p99: round2(percentile(latencies, 99)),
      max: round2(latencies.at(-1) ?? 0),
    },
    non2xx,
    errors,
    timeouts: 0,
  };
}

/** Checks a route answers 200 (and returns the answer) before it is measured. */
export async function probe(target, token) {
  const res = await fetch(target, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const body = await res.text();
  if (res.status !== 200) throw new Error(`probe ${target}: ${res.status} ${body.slice(0, 300)}`);
  return { res, body };
}

// ---------------------------------------------------------------- CPU

/**
 * CPU time (ms) the workerd process has used so far, from /proc (Linux): the server's cost
 * per request, which other load on the machine barely disturbs. null elsewhere.
 */
function findWorkerdPid() {
  const seen = new Set();
  const walk = (pid) => {
    if (seen.has(pid)) return null;
    seen.add(pid);
    const taskDir = `/proc/${pid}/task`;
    if (!existsSync(taskDir)) return null;
    for (const tid of readdirSync(taskDir)) {
      let children = "";
      try {
        children = readFileSync(`${taskDir}/${tid}/children`, "utf8");
      } catch {}
      for (const child of children.split(" ").filter(Boolean)) {
        try {
          if (readFileSync(`/proc/${child}/comm`, "utf8").trim() === "workerd") return Number(child);
        } catch {}
        const deeper = walk(Number(child));
        if (deeper) return deeper;
      }
    }
    return null;
  };
  return walk(process.pid);
}
let workerdPid;
export function workerdCpuMs() {
  workerdPid ??= findWorkerdPid();
  if (!workerdPid) return null;
  try {
    const fields = readFileSync(`/proc/${workerdPid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- profiles

/** Starts V8's sampling profiler in one Worker's isolate (Chrome DevTools protocol on Miniflare's inspector port). */
export async function startProfile(worker) {
  const { default: WebSocket } = await import("ws");
  const targets = await (await fetch(`http://${HOST}:${ports.inspector}/json`)).json();
  const target =
    targets.find((t) => t.title === worker || t.id === worker) ?? targets.find((t) => t.title?.includes(worker));
  if (!target) throw new Error(`no inspector target for ${worker}: ${targets.map((t) => t.title).join(", ")}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg.result);
      pending.delete(msg.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  return {
    async stop(file) {
      const { profile } = await send("Profiler.stop");
      // A fresh clone has no bench/out/ until the first report writes it.
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      ws.close();
      console.log(`  profile written to ${file} (${target.title ?? target.id})`);
    },
  };
}
