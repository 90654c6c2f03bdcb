#!/usr/bin/env node
/**
 * The package as a user gets it: `npm pack .pack` (scripts/build-package.mjs stages it there),
 * installed into a fresh temporary Worker project (the example app's source, wrangler.toml and
 * tsconfig.json, and a file using the typed client) beside the app's own `hono`, once with the
 * oldest hono the package supports (its peer range's floor, the `hono-oldest` dev dependency)
 * and once with the newest (the repository's `hono`); each type-checked with tsc, built with
 * `wrangler deploy --dry-run`, and the built Worker serving the example's routes in Miniflare
 * against the Clerk emulator, hosting the package's SessionDirectory class (re-exported by the
 * app, bound as its wrangler.toml binds it). Checks too that hono is installed once (the app's),
 * and that the tarball holds the package's README, LICENSE, CHANGELOG and source maps.
 *
 *   npm run pack:check        (CI: .ci/run; wrangler needs the Node 22 that npm scripts put first)
 *
 * Offline: the package's dependencies (and both hono versions) are packed from the repository's node_modules,
 * the very versions the lockfile pins, and installed from those tarballs with `npm install
 * --offline` (an npm cache filled by `npm ci` holds tarballs, not the registry metadata a range
 * would need). tsc, wrangler and the Workers types are the repository's own: a Worker project's
 * dev tools, not the package's dependencies. Prints the package's size.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { Webhook } from "standardwebhooks";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const example = join(root, "examples", "hono-app");
const bin = (path) => join(root, "node_modules", path);
const quiet = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_UPDATE_NOTIFIER: "1" };

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...quiet }, stdio: "pipe" });
}

function step(message) {
  console.log(`pack-check: ${message}`);
}

/** The example app, plus what a @clerk/hono app reads from the context: c.get("clerk"), c.get("clerkAuth"). */
const DROP_IN_ENTRY = `import "clerk-session-gateway/hono/clerk-client";
import { getAuth } from "clerk-session-gateway/hono";
import { verifyWebhook } from "clerk-session-gateway/hono/webhooks";
import app from "./index";

export { RevocationLog, SessionDirectory } from "clerk-session-gateway";

app.get("/api/profile", async (c) => {
  const { userId } = getAuth(c);
  const user = await c.get("clerk").users.getUser(userId ?? "");
  const viaClerkAuth = c.get("clerkAuth")().userId;
  return c.json({ id: user.id, email: user.primaryEmailAddress?.emailAddress ?? null, viaClerkAuth });
});

// The app's own webhook endpoint, as Clerk's Hono docs write it.
app.post("/hooks/clerk", async (c) => {
  const event = await verifyWebhook(c, { bindings: { SESSION_CACHE: "AUTH_KV", SESSION_DIRECTORY: "AUTH_DIRECTORY" } });
  return c.json({ received: true, type: event.type });
});

export default app;
`;

/** Type-checked only (the Worker does not import it): the typed client as a browser app would use it. */
const CLIENT_CHECK = `import { createGatewayClient, GatewayError, type GatewayClient, type Session } from "clerk-session-gateway/client";

export const gateway: GatewayClient = createGatewayClient({ baseUrl: "https://sessions.example.test", token: () => null });
export async function otherDevices(current: string): Promise<string[]> {
  const devices = await gateway.me.activeSessions();
  return devices.map((device) => device.id).filter((id) => id !== current);
}
export const failed = (error: unknown): error is GatewayError => error instanceof GatewayError;
export type Sessions = Session[];
`;

const secretKey = "sk_test_packCheckEmulatorKey_0123456789abcdef";
const publishableKey = "pk_test_aGFwcHktaGlwcG8tNDIuY2xlcmsuYWNjb3VudHMuZGV2JA";
const webhookSecret = "whsec_cGFjay1jaGVjay1ub3QtYS1zZWNyZXQ";

const work = await mkdtemp(join(tmpdir(), "pack-check-"));
let mf;
try {
  step("npm run build");
  run(process.execPath, [join(root, "scripts", "build-package.mjs")], root);

  const [packed] = JSON.parse(run("npm", ["pack", join(root, ".pack"), "--json", "--pack-destination", work], root));
  const tarball = join(work, packed.filename);
  step(
    `package ${packed.name}@${packed.version}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.entryCount} files`,
  );
  checkContents(packed);

  // The package's production dependency tree as the lockfile records it (installed here), each
  // packed as a tarball; hono is the app's own (a peer), packed below in the two versions checked.
  const deps = join(work, "deps");
  await mkdir(deps);
  const lock = JSON.parse(await readFile(join(root, "package-lock.json"), "utf8"));
  const tree = Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith("node_modules/") && !entry.dev && !entry.devOptional)
    .map(([path]) => join(root, path))
    .filter((path) => path !== join(root, "node_modules", "hono"));
  const dependencyTarballs = {};
  for (const path of new Set(tree)) {
    const [info] = JSON.parse(
      run("npm", ["pack", path, "--json", "--ignore-scripts", "--pack-destination", deps], root),
    );
    dependencyTarballs[info.name] = `file:${join(deps, info.filename)}`;
  }
  // @clerk/backend, the optional peer an app installs to read c.get("clerk"), with its own dependencies.
  const backend = {};
  // Resolved as Node resolves them: a package's own node_modules first, then its parents'.
  const resolveIn = (from, name) => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
      const path = `${dir ? `${dir}/` : ""}node_modules/${name}`;
      if (lock.packages[path]) return path;
      if (!dir) return undefined;
    }
  };
  const closure = (path, seen = new Map()) => {
    const entry = lock.packages[path];
    if (!entry || [...seen.values()].includes(path)) return seen;
    seen.set(entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length), path);
    for (const dependency of Object.keys(entry.dependencies ?? {})) {
      const found = resolveIn(path, dependency);
      if (found) closure(found, seen);
    }
    return seen;
  };
  for (const [name, path] of closure("node_modules/@clerk/backend")) {
    if (dependencyTarballs[name]) continue;
    backend[name] = packInstalled(join(root, path), deps).tarball;
  }
  const honos = [
    { label: "oldest", ...(await packOldestHono(deps)) },
    { label: "newest", ...packInstalled(join(root, "node_modules", "hono"), deps) },
  ];

  const emulatorScript = join(work, "emulator.js");
  await build({
    entryPoints: [join(root, "emulator", "src", "index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    outfile: emulatorScript,
    logLevel: "warning",
  });

  for (const hono of honos) {
    step(`— beside hono ${hono.version} (the ${hono.label} supported)`);
    const app = await installApp(join(work, `app-${hono.label}`), tarball, hono, dependencyTarballs, backend);
    mf = serve(app, emulatorScript);
    await exercise(mf);
    await mf.dispose();
    mf = undefined;
  }
  step("ok");
} finally {
  await mf?.dispose().catch(() => {});
  await rm(work, { recursive: true, force: true });
}

/** What the tarball must hold: the package's own README (not the repository's), LICENSE, CHANGELOG, every entry with its map. */
function checkContents(packed) {
  const files = new Set(packed.files.map((file) => file.path));
  const required = ["README.md", "LICENSE", "CHANGELOG.md", "package.json", "dist/openapi.js", "dist/openapi.d.ts"];
  for (const entry of ["dist/src/package", "dist/src/hono/index", "dist/client/index"]) {
    required.push(`${entry}.js`, `${entry}.d.ts`, `${entry}.js.map`);
  }
  const missing = required.filter((path) => !files.has(path));
  if (missing.length > 0) throw new Error(`the tarball lacks ${missing.join(", ")}`);
  const stray = [...files].filter((path) => !required.includes(path) && !path.startsWith("dist/"));
  if (stray.length > 0) throw new Error(`the tarball holds files outside dist/: ${stray.join(", ")}`);
  step(`  the tarball holds README.md, LICENSE, CHANGELOG.md, dist/ with source maps (${files.size} files)`);
}

function packInstalled(path, destination) {
  const [info] = JSON.parse(
    run("npm", ["pack", path, "--json", "--ignore-scripts", "--pack-destination", destination], root),
  );
  return { version: info.version, tarball: `file:${join(destination, info.filename)}` };
}

/** The floor of the package's hono peer range: installed as `hono-oldest` by `npm ci`, else fetched by npm once. */
async function packOldestHono(destination) {
  const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  const spec = manifest.devDependencies["hono-oldest"].replace(/^npm:/, "");
  const floor = manifest.peerDependencies.hono.match(/>=\s*([\d.]+)/)?.[1];
  if (spec !== `hono@${floor}`) throw new Error(`hono-oldest (${spec}) is not the floor of the peer range (${floor})`);
  const installed = join(root, "node_modules", "hono-oldest");
  if (existsSync(installed)) return packInstalled(installed, destination);
  step(`  node_modules/hono-oldest is not installed (npm ci installs it): npm pack ${spec}`);
  const [info] = JSON.parse(run("npm", ["pack", spec, "--json", "--pack-destination", destination], root));
  return { version: info.version, tarball: `file:${join(destination, info.filename)}` };
}

/** A fresh Worker project: the example's files and one using the typed client, depending on the package and its own hono. */
async function installApp(app, tarball, hono, dependencyTarballs, backend) {
  await mkdir(app);
  await cp(join(example, "src"), join(app, "src"), { recursive: true });
  await cp(join(example, "wrangler.toml"), join(app, "wrangler.toml"));
  await cp(join(example, "tsconfig.json"), join(app, "tsconfig.json"));
  await writeFile(join(app, "src", "client-check.ts"), CLIENT_CHECK);
  // The Worker's entry: the example plus a route reading c.get("clerk"), as a @clerk/hono app would.
  await writeFile(join(app, "src", "main.ts"), DROP_IN_ENTRY);
  const toml = await readFile(join(app, "wrangler.toml"), "utf8");
  await writeFile(join(app, "wrangler.toml"), toml.replace(/^main = .*$/m, 'main = "src/main.ts"'));
  await writeFile(
    join(app, "package.json"),
    JSON.stringify(
      {
        name: "pack-check-app",
        private: true,
        type: "module",
        dependencies: {
          "clerk-session-gateway": `file:${tarball}`,
          hono: hono.tarball,
          "@clerk/backend": backend["@clerk/backend"],
        },
        // Where the package's own dependencies resolve from (no registry metadata offline).
        overrides: {
          ...dependencyTarballs,
          ...Object.fromEntries(Object.entries(backend).filter(([name]) => name !== "@clerk/backend")),
        },
      },
      null,
      2,
    ),
  );
  step(
    `npm install --offline (the package, hono ${hono.version}, @clerk/backend, and ${Object.keys(dependencyTarballs).length + Object.keys(backend).length - 1} more from node_modules)`,
  );
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], app);
  await mkdir(join(app, "node_modules", "@cloudflare"), { recursive: true });
  await symlink(bin("@cloudflare/workers-types"), join(app, "node_modules", "@cloudflare", "workers-types"), "dir");
  const honoCopies = run("npm", ["ls", "hono", "--all", "--parseable"], app).split("\n").filter(Boolean);
  const installedHono = JSON.parse(await readFile(join(app, "node_modules", "hono", "package.json"), "utf8")).version;
  if (honoCopies.length !== 1 || installedHono !== hono.version) {
    throw new Error(`expected one hono ${hono.version} (the app's), found ${honoCopies.join(", ")}`);
  }
  step(`  one hono installed, the app's ${installedHono}`);

  step("tsc --noEmit (the app against the package's declarations)");
  run(process.execPath, [bin("typescript/bin/tsc"), "--noEmit", "-p", "tsconfig.json"], app);

  step("wrangler deploy --dry-run --minify");
  run(process.execPath, [bin("wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--minify", "--outdir", "dist"], app);
  const bundle = await readFile(join(app, "dist", "main.js"));
  step(`  the app Worker's bundle: ${bundle.length} bytes, ${gzipSync(bundle, { level: 9 }).length} gzip (minified)`);
  return app;
}

function serve(app, emulatorScript) {
  step("serving the example's routes (Miniflare + the Clerk emulator)");
  const limit = { limit: 1000, period: 60 };
  return new Miniflare(
    convertV4MiniflareOptions({
      log: new Log(LogLevel.WARN),
      cf: false,
      handleStructuredLogs: () => {},
      workers: [
        {
          name: "app",
          modules: true,
          scriptPath: join(app, "dist", "main.js"),
          // Module names must not climb out of their root (these scripts live outside the cwd).
          modulesRoot: join(app, "dist"),
          compatibilityDate: "2026-10-01",
          bindings: {
            CLERK_SECRET_KEY: secretKey,
            CLERK_PUBLISHABLE_KEY: publishableKey,
            CLERK_AUTHORIZED_PARTIES: "http://localhost:8787",
            CLERK_WEBHOOK_SIGNING_SECRET: webhookSecret,
          },
          kvNamespaces: { AUTH_KV: "pack-check" },
          // The Durable Object classes the app re-exports from the package, as its wrangler.toml binds them.
          durableObjects: {
            AUTH_DIRECTORY: { className: "SessionDirectory", useSQLite: true },
            AUTH_REVOCATION_LOG: { className: "RevocationLog", useSQLite: true },
          },
          ratelimits: Object.fromEntries(
            ["AUTH_FAILURE_LIMIT", "USER_WRITE_LIMIT", "CLERK_DEV_LIMIT", "CLERK_PROD_LIMIT"].map((name, i) => [
              name,
              { simple: limit, namespace_id: String(3000 + i) },
            ]),
          ),
          outboundService: "clerk-emulator",
        },
        {
          name: "clerk-emulator",
          modules: true,
          scriptPath: emulatorScript,
          modulesRoot: dirname(emulatorScript),
          compatibilityDate: "2026-10-01",
          bindings: {
            CLERK_SECRET_KEY: secretKey,
            CLERK_PUBLISHABLE_KEY: publishableKey,
            CLERK_WEBHOOK_SIGNING_SECRET: webhookSecret,
            INSTANCE_ID: "ins_2happyHippo42EmulatorInstance",
          },
        },
      ],
    }),
  );
}

async function exercise(mf) {
  const emulator = await mf.getWorker("clerk-emulator");
  const appFetch = (path, token, init = {}) =>
    mf.dispatchFetch(`https://app.example.test${path}`, {
      ...init,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  const signIn = async () => {
    const response = await emulator.fetch("https://api.clerk.com/__dev/sign_in", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: "user_alice0000000000000000000000" }),
    });
    return response.json();
  };
  const expect = async (what, response, status) => {
    const body = await response.text();
    if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${response.status}: ${body}`);
    step(`  ${what}: ${status}`);
    return body.startsWith("{") ? JSON.parse(body) : body;
  };

  await expect("GET / (public)", await appFetch("/"), 200);
  const anonymous = await expect("GET /api/me anonymous", await appFetch("/api/me"), 401);
  if (anonymous.errors?.[0]?.code !== "authentication_invalid") throw new Error("401 is not in Clerk's envelope");
  const laptop = await signIn();
  const phone = await signIn();
  const me = await expect("GET /api/me signed in", await appFetch("/api/me", phone.token), 200);
  if (me.userId !== phone.user_id) throw new Error(`wrong userId ${me.userId}`);
  await expect(
    "POST /clerk/v1/me/sessions/:id/revoke (another device)",
    await appFetch(`/clerk/v1/me/sessions/${phone.session_id}/revoke`, laptop.token, { method: "POST" }),
    200,
  );
  const profile = await expect(
    'GET /api/profile (c.get("clerk").users.getUser)',
    await appFetch("/api/profile", laptop.token),
    200,
  );
  if (profile.id !== laptop.user_id || profile.viaClerkAuth !== laptop.user_id) {
    throw new Error(`c.get("clerk") / c.get("clerkAuth") answered ${JSON.stringify(profile)}`);
  }
  await expect("GET /api/me with the revoked session's token", await appFetch("/api/me", phone.token), 401);
  // Clerk's session.revoked for the laptop, to the app's own endpoint: verifyWebhook records it.
  const event = JSON.stringify({
    type: "session.revoked",
    object: "event",
    data: { object: "session", id: laptop.session_id, user_id: laptop.user_id, status: "revoked" },
  });
  const messageId = `msg_${randomUUID().replace(/-/g, "")}`;
  const now = new Date();
  await expect(
    "POST /hooks/clerk (verifyWebhook, session.revoked)",
    await mf.dispatchFetch("https://app.example.test/hooks/clerk", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": messageId,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": new Webhook(webhookSecret).sign(messageId, now, event),
      },
      body: event,
    }),
    200,
  );
  await expect("GET /api/me with the webhook-revoked session's token", await appFetch("/api/me", laptop.token), 401);
  // The revoke was reported done only once the user's object (the class from the packed package) recorded it.
  const directory = await mf.getDurableObjectNamespace("AUTH_DIRECTORY", "app");
  const records = await directory.get(directory.idFromName(phone.user_id)).revocations();
  if (!records.some((record) => record.session_id === phone.session_id)) {
    throw new Error(`the revoke is not recorded in the user's SessionDirectory: ${JSON.stringify(records)}`);
  }
  step("  the revoke is recorded in the user's SessionDirectory object");
  const openapi = await expect("GET /clerk/openapi.json", await appFetch("/clerk/openapi.json"), 200);
  if (openapi.servers?.[0]?.url !== "/clerk") throw new Error("OpenAPI servers do not name the mount");
}
