#!/usr/bin/env node
/**
 * `npm run test:newcomer`: the first ten minutes, scripted. From this checkout, on ports of its
 * own (never the README's defaults, so every block must follow its variables), as a newcomer would:
 *   0. the README's `npm run build && npm pack`, and a Worker project of one's own from the
 *      README's code on the packed package (test/newcomer/own-worker.mjs);
 *   1. `npm start`, and its banner (the emulator's signing key created now);
 *   2. a second `npm start` on the same ports: refused at once, naming GATEWAY_PORT, no banner;
 *   3. the README's "Calling each of the ten operations", run as written, every step checked;
 *   4. the README's iPhone-token block of the devices walkthrough (200);
 *   5. `/`, and the gateway's readable request lines in the `npm start` terminal;
 *   6. that Worker under `wrangler dev` against the emulator, as "Against the local emulator"
 *      says, and alice's call to it (200);
 *   7. Ctrl-C, which stops both workers and frees both ports;
 *   8. `npm start` again, the Worker still running: the same signing key, so alice's new token
 *      has the same kid and the Worker verifies it with the keys it cached, no JWKS fetch;
 *   9. Ctrl-C while `npm start` is still starting, which leaves nothing behind either;
 *  10. a port taken between `npm start`'s check and wrangler's bind (test/newcomer/port-race.mjs).
 * Bounded: the whole run fails after 420 s rather than hang CI.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, portIsFree } from "../../scripts/dev-servers.mjs";
import { callOwnWorker, prepareOwnWorker, startOwnWorker } from "./own-worker.mjs";
import { checkPortRace } from "./port-race.mjs";
import { ROOT, runDevicesTokenBlock, runOperationsWalkthrough } from "./walkthrough.mjs";

const started = Date.now();
const say = (message) => console.log(`  ${message}`);
let npmStart;
let shell;
let ownWorker;
let ownProject;
// The emulator's signing key for this run only (EMULATOR_SIGNING_KEY_FILE), not the checkout's.
const keyDir = mkdtempSync(join(tmpdir(), "newcomer-key-"));
const keyFile = join(keyDir, "emulator-signing-key.json");

const guard = setTimeout(() => {
  console.error("newcomer run: timed out after 420 s");
  stopAll().finally(() => process.exit(1));
}, 420_000);

/** `npm start` as a newcomer types it, in its own process group (so Ctrl-C reaches it whole). */
function npmStartOn(gatewayPort, emulatorPort) {
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env: {
      ...process.env,
      GATEWAY_PORT: String(gatewayPort),
      EMULATOR_PORT: String(emulatorPort),
      EMULATOR_SIGNING_KEY_FILE: keyFile,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const result = { child, stdout: "", stderr: "", exit: null };
  child.stdout.on("data", (chunk) => {
    result.stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    result.stderr += chunk;
  });
  result.exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      result.exit = { code, signal };
      resolve(result.exit);
    }),
  );
  return result;
}

async function until(predicate, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Ctrl-C to `npm start`, then both its ports free again. */
async function ctrlC(run, ports, what) {
  process.kill(-run.child.pid, "SIGINT");
  const stopped = await Promise.race([run.exited, sleep(20_000).then(() => null)]);
  assert.ok(stopped, `npm start stops on Ctrl-C ${what}`);
  for (const port of ports) {
    let free = false;
    for (let i = 0; i < 50 && !free; i++) {
      free = await portIsFree(port);
      if (!free) await sleep(100);
    }
    assert.ok(free, `port ${port} is free after Ctrl-C ${what}`);
  }
}

/** `npm start` until its banner; fails if it exits first. */
async function bannerOf(run) {
  await until(() => run.stdout.includes("Ctrl-C stops both workers") || run.exit, "the banner", 120_000);
  assert.equal(run.exit, null, `npm start exited:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

async function stopAll() {
  await stopStart();
  await ownWorker?.stop();
  ownProject?.remove();
  rmSync(keyDir, { recursive: true, force: true });
}

async function stopStart() {
  shell?.close();
  if (!npmStart || npmStart.exit) return;
  try {
    process.kill(-npmStart.child.pid, "SIGINT");
  } catch {}
  const stopped = await Promise.race([npmStart.exited, sleep(15_000).then(() => null)]);
  if (!stopped) {
    try {
      process.kill(-npmStart.child.pid, "SIGKILL");
    } catch {}
  }
}

try {
  const gatewayPort = await freePort();
  let emulatorPort = await freePort();
  while (emulatorPort === gatewayPort) emulatorPort = await freePort();
  let appPort = await freePort();
  while (appPort === gatewayPort || appPort === emulatorPort) appPort = await freePort();
  const gatewayUrl = `http://localhost:${gatewayPort}`;
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const appUrl = `http://localhost:${appPort}`;

  // 0. The package built and packed, and a Worker of one's own on it.
  ownProject = await prepareOwnWorker({ log: say });
  say(`your own Worker's project made from the README's code after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // 1. npm start, and the banner.
  say(`npm start (GATEWAY_PORT=${gatewayPort} EMULATOR_PORT=${emulatorPort})`);
  npmStart = npmStartOn(gatewayPort, emulatorPort);
  await bannerOf(npmStart);
  for (const line of [`${gatewayUrl}/devices`, `${gatewayUrl}/docs`, `${gatewayUrl}/ `, emulatorUrl, "alice"]) {
    assert.ok(npmStart.stdout.includes(line), `the banner shows ${line}`);
  }
  assert.ok(npmStart.stdout.includes(`(${keyFile}, created now)`), "the first start creates the signing key");
  assert.doesNotMatch(
    npmStart.stdout,
    /Environment Variable|Starting local server/,
    "wrangler's start-up chatter is held back",
  );
  say(`banner shown after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // 2. Starting twice: refused before anything starts, naming the variable, no banner.
  const second = npmStartOn(gatewayPort, emulatorPort);
  const { code } = await second.exited;
  assert.notEqual(code, 0, "a second npm start on busy ports fails");
  assert.match(second.stderr, new RegExp(`port ${gatewayPort} is already in use`));
  assert.match(second.stderr, /GATEWAY_PORT/);
  assert.match(second.stderr, /EMULATOR_PORT/);
  assert.doesNotMatch(second.stdout + second.stderr, /is running|--port/, "no banner, no wrangler --port hint");
  say(`a second npm start: exit ${code}, "${second.stderr.trim().split("\n")[0]}"`);

  // 3. The ten operations, as the README writes them.
  const walk = await runOperationsWalkthrough({ gatewayUrl, emulatorUrl, log: say });
  shell = walk.shell;

  // 4. The devices walkthrough's iPhone token block (the page part is the browser test's).
  await runDevicesTokenBlock(shell);
  say("devices walkthrough: the iPhone's token answers 200");

  // 5. `/` is a page that leads on; the terminal shows readable request lines.
  const root = await fetch(`${gatewayUrl}/`);
  assert.equal(root.status, 200);
  const html = await root.text();
  for (const href of ["/devices", "/docs", "/healthz"]) assert.ok(html.includes(`href="${href}"`), `/ links ${href}`);
  // The reference's page and the document it renders (the page's own rendering: the browser test).
  assert.equal((await fetch(`${gatewayUrl}/docs`)).status, 200);
  const spec = await fetch(`${gatewayUrl}/openapi.json`);
  assert.equal(spec.status, 200, "/openapi.json is served");
  assert.match((await spec.json()).openapi, /^3\.1\./);
  await until(
    () => npmStart.stdout.includes("POST /v1/sessions/:session_id/revoke → 200"),
    "the revoke's log line",
    5_000,
  );
  const requestLines = npmStart.stdout
    .split("\n")
    .filter((line) => line.startsWith("[gateway] ") && line.includes(" → "));
  assert.ok(requestLines.some((line) => /GET \/v1\/me\/sessions\/active → 200 {2}user .*cache HIT/.test(line)));
  assert.match(npmStart.stdout, /audit session\.revoke \S+ ok, by service key #0/);
  assert.doesNotMatch(npmStart.stdout, /^\[gateway\] \{"level"/m, "no raw JSON log lines");
  assert.doesNotMatch(
    npmStart.stdout,
    /\[wrangler:info\] (GET|POST) /,
    "wrangler's duplicate request lines are dropped",
  );
  say(`npm start logged ${requestLines.length} request lines, e.g. "${requestLines[0]?.slice(10)}"`);

  // 6. Your own Worker against the emulator, as the README runs it.
  ownWorker = await startOwnWorker({ dir: ownProject.dir, emulatorUrl, port: appPort });
  const before = await callOwnWorker({ emulatorUrl, appUrl });
  say(`your own Worker on :${appPort}: /api/me → ${before.answer} (kid ${before.kid})`);

  // 7. Ctrl-C stops both workers and frees the ports.
  shell.close();
  await ctrlC(npmStart, [gatewayPort, emulatorPort], "");
  say("Ctrl-C: both workers stopped, both ports free");

  // 8. npm start again under the running Worker: a reseeded Clerk, the same signing key.
  npmStart = npmStartOn(gatewayPort, emulatorPort);
  const banner = await bannerOf(npmStart);
  assert.ok(banner.includes(`Its signing key stays (${keyFile}):`), "the restart keeps the signing key");
  await fetch(`${emulatorUrl}/__emulator/calls`, { method: "DELETE" });
  const after = await callOwnWorker({ emulatorUrl, appUrl });
  assert.equal(after.kid, before.kid, "the restarted emulator signs under the same kid");
  const { calls } = await (await fetch(`${emulatorUrl}/__emulator/calls`)).json();
  assert.deepEqual(
    calls.filter((call) => call.path === "/v1/jwks").map((call) => call.path),
    [],
    "your Worker verified the restarted emulator's token with the keys it had cached",
  );
  say(`npm start restarted: your own Worker still answers ${after.answer}, same kid, no JWKS fetch`);
  await ctrlC(npmStart, [gatewayPort, emulatorPort], "after the restart");
  await ownWorker.stop();
  assert.doesNotMatch(ownWorker.output(), /bad_signature|ENOTFOUND/, "your Worker's terminal stayed clean");

  // 9. Ctrl-C halfway through starting (the emulator up, the gateway not yet): nothing left behind.
  const early = npmStartOn(gatewayPort, emulatorPort);
  npmStart = early; // stopped by the cleanup below if this step fails
  const emulatorUp = Date.now() + 60_000;
  while ((await portIsFree(emulatorPort)) && Date.now() < emulatorUp && early.exit === null) await sleep(100);
  assert.equal(early.exit, null, `npm start exited early:\n${early.stdout}\n${early.stderr}`);
  process.kill(-early.child.pid, "SIGINT");
  const cancelled = await Promise.race([early.exited, sleep(20_000).then(() => null)]);
  assert.ok(cancelled, "npm start stops on Ctrl-C while starting");
  assert.doesNotMatch(early.stdout, /is running against/, "no banner after Ctrl-C");
  for (const port of [gatewayPort, emulatorPort]) {
    let free = false;
    for (let i = 0; i < 50 && !free; i++) {
      free = await portIsFree(port);
      if (!free) await sleep(100);
    }
    assert.ok(free, `port ${port} is free after Ctrl-C during the start`);
  }
  say("Ctrl-C while starting: nothing left behind");

  // 10. A port taken after the check, before wrangler binds it: retried, or said plainly.
  await checkPortRace({ log: say });
  console.log(`newcomer run passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  process.exitCode = 1;
  console.error("newcomer run FAILED:", error);
  if (npmStart)
    console.error(
      `--- npm start output (last 60 lines) ---\n${npmStart.stdout.split("\n").slice(-60).join("\n")}\n${npmStart.stderr}`,
    );
} finally {
  clearTimeout(guard);
  await stopAll();
}
