#!/usr/bin/env node
/**
 * The package as a user gets it: `npm pack`, installed into a fresh temporary Worker project
 * (the example app's source, wrangler.toml and tsconfig.json, with `hono`), type-checked with
 * tsc, built with `wrangler deploy --dry-run`, and the built Worker serving the example's
 * routes in Miniflare against the Clerk emulator, hosting the package's SessionDirectory class
 * (re-exported by the app, bound as its wrangler.toml binds it).
 *
 *   npm run pack:check        (CI: .ci/run; wrangler needs the Node 22 that npm scripts put first)
 *
 * Offline: the package's dependencies (and hono) are packed from the repository's node_modules,
 * the very versions the lockfile pins, and installed from those tarballs with `npm install
 * --offline` (an npm cache filled by `npm ci` holds tarballs, not the registry metadata a range
 * would need). tsc, wrangler and the Workers types are the repository's own: a Worker project's
 * dev tools, not the package's dependencies. Prints the package's size.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";

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

const work = await mkdtemp(join(tmpdir(), "pack-check-"));
let mf;
try {
  step("npm run build");
  run(process.execPath, [join(root, "scripts", "build-package.mjs")], root);

  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], root));
  const tarball = join(work, packed.filename);
  step(
    `package ${packed.name}@${packed.version}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.entryCount} files`,
  );

  // The package's production dependency tree, as installed here, each packed as a tarball.
  const deps = join(work, "deps");
  await mkdir(deps);
  const tree = run("npm", ["ls", "--omit=dev", "--all", "--parseable"], root)
    .split("\n")
    .filter((path) => path.startsWith(join(root, "node_modules")));
  const dependencyTarballs = {};
  for (const path of new Set(tree)) {
    const [info] = JSON.parse(
      run("npm", ["pack", path, "--json", "--ignore-scripts", "--pack-destination", deps], root),
    );
    dependencyTarballs[info.name] = `file:${join(deps, info.filename)}`;
  }

  // A fresh Worker project: the example's files, depending on the package and hono.
  const app = join(work, "app");
  await mkdir(app);
  await cp(join(example, "src"), join(app, "src"), { recursive: true });
  await cp(join(example, "wrangler.toml"), join(app, "wrangler.toml"));
  await cp(join(example, "tsconfig.json"), join(app, "tsconfig.json"));
  await writeFile(
    join(app, "package.json"),
    JSON.stringify(
      {
        name: "pack-check-app",
        private: true,
        type: "module",
        dependencies: { "clerk-session-gateway": `file:${tarball}`, hono: dependencyTarballs.hono },
        // Where the package's own dependencies resolve from (no registry metadata offline).
        overrides: dependencyTarballs,
      },
      null,
      2,
    ),
  );
  step(
    `npm install --offline (the package, hono, and ${Object.keys(dependencyTarballs).length - 1} more from node_modules)`,
  );
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], app);
  await mkdir(join(app, "node_modules", "@cloudflare"), { recursive: true });
  await symlink(bin("@cloudflare/workers-types"), join(app, "node_modules", "@cloudflare", "workers-types"), "dir");

  step("tsc --noEmit (the app against the package's declarations)");
  run(process.execPath, [bin("typescript/bin/tsc"), "--noEmit", "-p", "tsconfig.json"], app);

  step("wrangler deploy --dry-run --minify");
  run(process.execPath, [bin("wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--minify", "--outdir", "dist"], app);
  const bundle = await readFile(join(app, "dist", "index.js"));
  step(`  the app Worker's bundle: ${bundle.length} bytes, ${gzipSync(bundle, { level: 9 }).length} gzip (minified)`);

  step("serving the example's routes (Miniflare + the Clerk emulator)");
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
  const secretKey = "sk_test_packCheckEmulatorKey_0123456789abcdef";
  const publishableKey = "pk_test_aGFwcHktaGlwcG8tNDIuY2xlcmsuYWNjb3VudHMuZGV2JA";
  const limit = { limit: 1000, period: 60 };
  mf = new Miniflare(
    convertV4MiniflareOptions({
      log: new Log(LogLevel.WARN),
      cf: false,
      handleStructuredLogs: () => {},
      workers: [
        {
          name: "app",
          modules: true,
          scriptPath: join(app, "dist", "index.js"),
          // Module names must not climb out of their root (these scripts live outside the cwd).
          modulesRoot: join(app, "dist"),
          compatibilityDate: "2026-10-01",
          bindings: {
            CLERK_SECRET_KEY: secretKey,
            CLERK_PUBLISHABLE_KEY: publishableKey,
            CLERK_AUTHORIZED_PARTIES: "http://localhost:8787",
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
          modulesRoot: work,
          compatibilityDate: "2026-10-01",
          bindings: {
            CLERK_SECRET_KEY: secretKey,
            CLERK_PUBLISHABLE_KEY: publishableKey,
            CLERK_WEBHOOK_SIGNING_SECRET: "whsec_cGFjay1jaGVjay1ub3QtYS1zZWNyZXQ",
            INSTANCE_ID: "ins_2happyHippo42EmulatorInstance",
          },
        },
      ],
    }),
  );
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
  await expect("GET /api/me with the revoked session's token", await appFetch("/api/me", phone.token), 401);
  // The revoke was reported done only once the user's object (the class from the packed package) recorded it.
  const directory = await mf.getDurableObjectNamespace("AUTH_DIRECTORY", "app");
  const records = await directory.get(directory.idFromName(phone.user_id)).revocations();
  if (!records.some((record) => record.session_id === phone.session_id)) {
    throw new Error(`the revoke is not recorded in the user's SessionDirectory: ${JSON.stringify(records)}`);
  }
  step("  the revoke is recorded in the user's SessionDirectory object");
  const openapi = await expect("GET /clerk/openapi.json", await appFetch("/clerk/openapi.json"), 200);
  if (openapi.servers?.[0]?.url !== "/clerk") throw new Error("OpenAPI servers do not name the mount");
  step("ok");
} finally {
  await mf?.dispose().catch(() => {});
  await rm(work, { recursive: true, force: true });
}
