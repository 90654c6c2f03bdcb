/**
 * "Use it in your own Worker", as a reader follows it, on ports of its own:
 *   - the README's `npm run build && npm pack` in this checkout (its listing checked);
 *   - a Worker project made of the README's code: the app, the SessionDirectory export and the
 *     binding's toml, with SESSION_CACHE bound as the README asks. The one stand-in: the README's
 *     `npm install ./clerk-session-gateway-….tgz hono` needs the registry, so the packed tarball
 *     is unpacked into the project's node_modules and its dependencies (and wrangler) are linked
 *     from this checkout's node_modules, the versions the lockfile pins;
 *   - "Against the local emulator": the `.dev.vars` block and its `wrangler dev`, then the
 *     sign-in and call block, each output checked.
 * Used by the newcomer run (test/newcomer/newcomer.mjs), which restarts `npm start` under it.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { commandsOf, onOtherPorts, ROOT, readmeBlocks, sectionBlocks, startShell } from "./walkthrough.mjs";

const SECTION = "Use it in your own Worker";
const ALICE = "user_alice0000000000000000000000";

/** The one block of the section (in `lang`) whose text contains `marker`. */
function blockWith(lang, marker) {
  const found = sectionBlocks(SECTION, readmeBlocks(undefined, lang)).filter((b) =>
    b.lines.join("\n").includes(marker),
  );
  assert.equal(found.length, 1, `README "${SECTION}" has one ${lang} block with ${marker}`);
  return found[0];
}

/**
 * Builds and packs the package (the README's first block) and makes the Worker project.
 * @returns {Promise<{ dir: string, remove: () => void }>}
 */
export async function prepareOwnWorker({ log = () => {} } = {}) {
  const work = mkdtempSync(join(tmpdir(), "own-worker-"));
  try {
    const [build, install] = commandsOf(blockWith("sh", "npm pack"));
    assert.match(install?.text ?? "", /^npm install \.\/clerk-session-gateway-[\d.]+\.tgz hono/);
    const shell = startShell({ cwd: ROOT, timeoutMs: 120_000 });
    let packed;
    try {
      const { output, status } = await shell.run(build.text);
      assert.equal(status, 0, `${build.text}\n${output}`);
      packed = /\b(clerk-session-gateway-[\d.]+\.tgz)\s*$/.exec(output)?.[1];
      assert.ok(packed, `npm pack names the tarball last:\n${output}`);
      for (const file of [
        "dist/src/hono/index.js",
        "dist/src/hono/index.d.ts",
        "dist/openapi.js",
        "package.json",
        "LICENSE",
      ])
        assert.match(output, new RegExp(`npm notice [\\d.]+k?B ${file}\\n`), `npm pack lists ${file}`);
      const files = /total files: (\d+)/.exec(output)?.[1];
      log(`npm pack listed ${files} files, wrote ${packed}`);
    } finally {
      shell.close();
    }
    const tarball = join(work, packed);
    renameSync(join(ROOT, packed), tarball);

    // The project. In place of `npm install <tarball> hono`: the tarball unpacked, the rest linked.
    const dir = join(work, "my-api");
    const installed = join(dir, "node_modules", "clerk-session-gateway");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
    const { dependencies } = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    for (const name of [...Object.keys(dependencies), "hono", "wrangler"]) {
      const link = join(dir, "node_modules", name);
      mkdirSync(dirname(link), { recursive: true });
      try {
        symlinkSync(join(ROOT, "node_modules", name), link, "dir");
      } catch (error) {
        if (error.code !== "EEXIST") throw error;
      }
    }
    mkdirSync(join(dir, "node_modules", ".bin"));
    symlinkSync("../wrangler/bin/wrangler.js", join(dir, "node_modules", ".bin", "wrangler"));
    writeFileSync(
      join(dir, "package.json"),
      `${JSON.stringify({ name: "my-api", private: true, type: "module", dependencies: { "clerk-session-gateway": `file:${tarball}`, hono: "*" } }, null, 2)}\n`,
    );
    // The README's app, and the export that hosts the directory's class, as src/index.ts.
    const app = blockWith("ts", "export default app").lines.join("\n");
    const directoryExport = blockWith("ts", "export { SessionDirectory }").lines.join("\n");
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "index.ts"), `${app}\n${directoryExport}\n`);
    // A wrangler.toml with SESSION_CACHE (the README: required), then the README's directory toml.
    const toml = blockWith("toml", "SESSION_DIRECTORY").lines.join("\n");
    writeFileSync(
      join(dir, "wrangler.toml"),
      [
        'name = "my-api"',
        'main = "src/index.ts"',
        'compatibility_date = "2026-10-01"',
        "",
        "[[kv_namespaces]]",
        'binding = "SESSION_CACHE"',
        'id = "my-api-sessions"',
        "",
        toml,
        "",
      ].join("\n"),
    );
    return { dir, remove: () => rmSync(work, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The README's `.dev.vars` block, in the project, its last command (`wrangler dev`) left running.
 * @param {{ dir: string, emulatorUrl: string, port: number }} options
 */
export async function startOwnWorker({ dir, emulatorUrl, port }) {
  const values = { EMU: emulatorUrl, PORT: String(port) };
  const commands = commandsOf(blockWith("sh", ".dev.vars"));
  const serve = commands.pop();
  assert.match(serve?.text ?? "", /wrangler dev/, "the block ends with `wrangler dev`");
  const shell = startShell({ emulatorUrl, values, cwd: dir });
  const assignments = [];
  try {
    for (const { text } of commands) {
      const { output, status } = await shell.run(text);
      assert.equal(status, 0, `README command failed: ${text}\n${output}`);
      if (/^[A-Z_]+=\S+(\s+#.*)?$/.test(text)) assignments.push(onOtherPorts(text, values));
    }
  } finally {
    shell.close();
  }
  const devVars = readFileSync(join(dir, ".dev.vars"), "utf8");
  assert.match(devVars, new RegExp(`^CLERK_API_URL=${emulatorUrl}$`, "m"), ".dev.vars names the emulator");

  // A terminal of its own, as the README's next block says ("In another shell").
  const child = spawn(
    "bash",
    ["--noprofile", "--norc", "-c", [...assignments, onOtherPorts(serve.text, values)].join("\n")],
    {
      cwd: dir,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    if (!(await Promise.race([exited.then(() => true), sleep(5_000)]))) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }
  };
  try {
    // Ready once its routes answer; signed out, /api/me is the README's 401 in Clerk's envelope.
    const deadline = Date.now() + 90_000;
    for (;;) {
      assert.equal(child.exitCode, null, `wrangler dev exited:\n${output}`);
      const response = await fetch(`http://localhost:${port}/api/me`).catch(() => null);
      if (response) {
        assert.equal(response.status, 401, `signed out, /api/me is a 401:\n${output}`);
        assert.equal((await response.json()).errors?.[0]?.code, "authentication_invalid");
        break;
      }
      assert.ok(Date.now() < deadline, `your Worker did not start on :${port}:\n${output}`);
      await sleep(250);
    }
    assert.doesNotMatch(output, /ENOTFOUND|Unable to fetch the `Request\.cf`/, "no request.cf download offline");
  } catch (error) {
    await stop();
    throw error;
  }
  return { output: () => output, stop };
}

/**
 * The README's sign-in and call block: alice's token for the Worker's origin, and its /api/me.
 * @param {{ emulatorUrl: string, appUrl: string }} options
 * @returns {Promise<{ kid: string, answer: string }>} the token's key id, and the call's output
 */
export async function callOwnWorker({ emulatorUrl, appUrl }) {
  const shell = startShell({ emulatorUrl, values: { APP: appUrl } });
  try {
    let last = "";
    for (const { text } of commandsOf(blockWith("sh", "/api/me"))) {
      const { output, status } = await shell.run(text);
      assert.equal(status, 0, `README command failed: ${text}\n${output}`);
      last = output.trim();
    }
    assert.deepEqual(JSON.parse(last), { userId: ALICE }, `your Worker's /api/me: ${last}`);
    const token = (await shell.run('printf %s "$TOKEN"')).output.trim();
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    assert.equal(payload.azp, appUrl, "the token's azp is the origin the sign-in named");
    return { kid: header.kid, answer: last };
  } finally {
    shell.close();
  }
}
