/**
 * Starts the Clerk emulator and the gateway wired to it, both under `wrangler dev`, each in
 * its own process group, and stops them by PID. Used by `npm start` (scripts/start.mjs) and
 * by the browser test (test/browser/), which passes free ports.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { addressInUse, isPort } from "./address-in-use.mjs";

export const HOST = "127.0.0.1";

/** A port the OS says is free on loopback right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Thrown when a port is already taken, naming the variable that moves it. */
export class PortBusyError extends Error {
  /**
   * @param {string} label @param {number} port @param {string} variable
   * @param {{ raced?: boolean }} [how] `raced`: free when checked, taken before wrangler bound it
   */
  constructor(label, port, variable, how = {}) {
    super(
      (how.raced
        ? `port ${port} was free when checked, but another program took it before wrangler could bind it for ${label},\n` +
          "  and still holds it (another `npm start`, or a test run, starting at the same moment?).\n"
        : `port ${port} is already in use, so ${label} cannot start there (is another \`npm start\` running?).\n`) +
        `  Stop the other one, or move this one with ${variable}: GATEWAY_PORT and EMULATOR_PORT choose the ports, e.g.\n` +
        "    GATEWAY_PORT=8797 EMULATOR_PORT=8798 npm start",
    );
    this.name = "PortBusyError";
    this.port = port;
    this.variable = variable;
  }
}

/**
 * Thrown when wrangler found a port taken at every attempt, though it was free again each time:
 * one of the ports wrangler picks for itself (its inspector, its dev registry), or ours taken for
 * moments over and over.
 */
export class AddressRaceError extends Error {
  /**
   * @param {string} label @param {string} address @param {number} attempts
   * @param {string} [variable] the variable that moves the port, when it is ours
   */
  constructor(label, address, attempts, variable) {
    super(
      `${label} could not start: wrangler found ${address} already in use, ${attempts} times in a row, free again each time.\n` +
        (variable
          ? `  Another program on this machine keeps taking that port for moments; move this one with ${variable}\n` +
            "  (GATEWAY_PORT and EMULATOR_PORT choose the ports, e.g. GATEWAY_PORT=8797 EMULATOR_PORT=8798 npm start)."
          : "  That is a port wrangler picks for itself (not GATEWAY_PORT or EMULATOR_PORT): another program on this\n" +
            "  machine keeps taking the ports it picks. Try again once the other `wrangler dev` or test run has started."),
    );
    this.name = "AddressRaceError";
    this.address = address;
  }
}

/** How many times a wrangler is started in all when it lost a port race. */
const START_ATTEMPTS = 3;
/** How long a port taken mid-start may stay taken before it counts as held by another program. */
const RACE_GRACE_MS = 2_000;

/** Resolves true when nothing listens on HOST:port (we could bind it), false when it is taken. */
export function portIsFree(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (error) => (error.code === "EADDRINUSE" ? resolve(false) : reject(error)));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function waitFor(url, label, child, timeoutMs, signal) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new Error(`${label}: start cancelled`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status < 500) return;
    } catch {}
    await sleep(250);
  }
  throw new Error(`${label} did not start at ${url} within ${timeoutMs / 1000} s`);
}

/**
 * Checks both ports before anything starts: otherwise a second `npm start` finds the first
 * instance answering, reports it as its own, and then fails with wrangler's `--port` hint.
 * @param {{ gatewayPort: number, emulatorPort: number }} ports
 */
export async function assertPortsFree({ gatewayPort, emulatorPort }) {
  if (!(await portIsFree(gatewayPort))) throw new PortBusyError("the gateway", gatewayPort, "GATEWAY_PORT");
  if (!(await portIsFree(emulatorPort))) throw new PortBusyError("the Clerk emulator", emulatorPort, "EMULATOR_PORT");
}

/**
 * @param {{ gatewayPort: number, emulatorPort: number, gatewayHost?: string,
 *           onOutput?: (name: string, line: string, stream: "stdout" | "stderr") => void,
 *           onExit?: (name: string, code: number | null) => void, timeoutMs?: number,
 *           gatewayLogLevel?: "warn" | "log" | "info", signal?: AbortSignal, signingKey?: string,
 *           beforeAttempt?: (start: { name: string, attempt: number }) => void | Promise<void> }} options
 * `signal` cancels a start under way (Ctrl-C while wrangler is still starting): whatever was
 * started is stopped before the returned promise rejects. `signingKey` (an RSA private JWK, as
 * JSON: scripts/dev-signing-key.mjs) is the emulator's key; without it the emulator makes one.
 * `onExit` is told about a worker that stops after it was ready; one that fails to start makes
 * the returned promise reject instead. `beforeAttempt` (tests) runs just before each wrangler starts.
 *
 * The ports are checked first, then wrangler binds them: another program can take a port in
 * between (or one of the ports wrangler picks for itself). A wrangler that fails with "Address
 * already in use" is started again (3 attempts in all) once the port is free again; a port still
 * taken 2 s later is a PortBusyError that says it was taken after the check, and a port lost at
 * every attempt an AddressRaceError.
 */
export async function startDevServers(options) {
  const { gatewayPort, emulatorPort, onOutput = () => {}, onExit = () => {}, timeoutMs = 60_000 } = options;
  // "log" shows the gateway's own request and audit lines (console.log); "warn" hides them.
  const gatewayLogLevel = options.gatewayLogLevel ?? "warn";
  await assertPortsFree({ gatewayPort, emulatorPort });
  const gatewayHost = options.gatewayHost ?? HOST;
  const emulatorUrl = `http://${HOST}:${emulatorPort}`;
  const gatewayUrl = `http://${gatewayHost}:${gatewayPort}`;
  const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
  const children = [];
  let stopping = false;
  // The emulator reseeds on every start (same ids), so the gateway's KV starts empty too: no
  // revocation marker or cached list from a previous run may outlive it.
  const state = mkdtempSync(join(tmpdir(), "gateway-dev-state-"));

  /** One `wrangler dev`; `busy` collects the addresses it reports in use while it starts. */
  const run = (name, args, busy) => {
    const child = spawn("npx", ["wrangler", "dev", ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.ready = false;
    for (const stream of ["stdout", "stderr"]) {
      child[stream].on("data", (chunk) => {
        for (const line of chunk.toString().split("\n")) {
          if (!line.trim()) continue;
          const address = child.ready ? null : addressInUse(line);
          if (address !== null) busy.push(address);
          onOutput(name, line, stream);
        }
      });
    }
    child.on("exit", (code) => {
      if (!stopping && child.ready) onExit(name, code);
    });
    // Every line it wrote has been read (its output pipes closed), or a moment has passed.
    child.drained = () => Promise.race([new Promise((resolve) => child.once("close", resolve)), sleep(2_000)]);
    children.push(child);
    return child;
  };

  const stopChild = (child) =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", resolve);
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return resolve();
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
        resolve();
      }, 5_000).unref();
    });

  const stop = async () => {
    stopping = true;
    await Promise.all(children.map(stopChild));
    rmSync(state, { recursive: true, force: true });
  };

  /** Starts one worker until it answers at `url`, again when it lost a port race (above). */
  const start = async ({ name, label, port, variable, args, url }) => {
    for (let attempt = 1; ; attempt++) {
      await options.beforeAttempt?.({ name, attempt });
      const busy = [];
      const child = run(name, args, busy);
      const drained = child.drained();
      try {
        await waitFor(url, label, child, timeoutMs, options.signal);
        child.ready = true;
        return child;
      } catch (error) {
        await stopChild(child);
        await drained;
        children.splice(children.indexOf(child), 1);
        const address = busy[0];
        if (address === undefined || options.signal?.aborted) throw error;
        const ours = isPort(address, port);
        if (ours && !(await freeWithin(port, RACE_GRACE_MS)))
          throw new PortBusyError(label, port, variable, { raced: true });
        if (attempt >= START_ATTEMPTS)
          throw new AddressRaceError(label, address || `port ${port}`, attempt, ours ? variable : undefined);
        onOutput(
          name,
          `${address || `port ${port}`} was taken just as wrangler started; starting ${label} again (attempt ${attempt + 1} of ${START_ATTEMPTS})`,
          "stderr",
        );
      }
    }
  };

  // The page's tokens carry this origin as azp; the gateway must accept it.
  const parties = [`http://localhost:${gatewayPort}`, `http://${HOST}:${gatewayPort}`].join(",");
  try {
    await start({
      name: "emulator",
      label: "the Clerk emulator",
      port: emulatorPort,
      variable: "EMULATOR_PORT",
      url: `${emulatorUrl}/__dev/users`,
      args: [
        "-c",
        "emulator/wrangler.toml",
        "--ip",
        HOST,
        "--port",
        String(emulatorPort),
        "--var",
        `WEBHOOK_URL:http://${HOST}:${gatewayPort}/webhooks/clerk`,
        "--var",
        `DEFAULT_AZP:http://localhost:${gatewayPort}`,
        ...(options.signingKey ? ["--var", `SIGNING_KEY:${options.signingKey}`] : []),
        "--log-level",
        "warn",
      ],
    });
    // One after the other: two `wrangler dev` starting at the same moment can pick the same free
    // port for their local dev-registry socket and one fails with "Address already in use".
    await start({
      name: "gateway",
      label: "the gateway",
      port: gatewayPort,
      variable: "GATEWAY_PORT",
      url: `http://${HOST}:${gatewayPort}/healthz`,
      args: [
        "-c",
        "wrangler.toml",
        "--ip",
        HOST,
        "--port",
        String(gatewayPort),
        "--env-file",
        "emulator/gateway.dev.vars",
        "--var",
        `CLERK_API_URL:${emulatorUrl}`,
        "--var",
        `CLERK_AUTHORIZED_PARTIES:${parties}`,
        "--var",
        `DEV_SIGN_IN_URL:${emulatorUrl}`,
        "--persist-to",
        state,
        "--log-level",
        gatewayLogLevel,
      ],
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { gatewayUrl, emulatorUrl, stop, pids: children.map((c) => c.pid) };
}

/** True once `port` is free, polled for up to `ms`. */
async function freeWithin(port, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await portIsFree(port)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}
