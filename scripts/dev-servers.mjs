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
  /** @param {string} label @param {number} port @param {string} variable */
  constructor(label, port, variable) {
    super(
      `port ${port} is already in use, so ${label} cannot start there (is another \`npm start\` running?).\n` +
        `  Stop the other one, or move this one with ${variable}: GATEWAY_PORT and EMULATOR_PORT choose the ports, e.g.\n` +
        "    GATEWAY_PORT=8797 EMULATOR_PORT=8798 npm start",
    );
    this.name = "PortBusyError";
    this.port = port;
    this.variable = variable;
  }
}

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
 *           gatewayLogLevel?: "warn" | "log" | "info", signal?: AbortSignal, signingKey?: string }} options
 * `signal` cancels a start under way (Ctrl-C while wrangler is still starting): whatever was
 * started is stopped before the returned promise rejects. `signingKey` (an RSA private JWK, as
 * JSON: scripts/dev-signing-key.mjs) is the emulator's key; without it the emulator makes one.
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

  const run = (name, args) => {
    const child = spawn("npx", ["wrangler", "dev", ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    for (const stream of ["stdout", "stderr"]) {
      child[stream].on("data", (chunk) => {
        for (const line of chunk.toString().split("\n")) if (line.trim()) onOutput(name, line, stream);
      });
    }
    child.on("exit", (code) => {
      if (!stopping) onExit(name, code);
    });
    children.push(child);
    return child;
  };

  const stop = async () => {
    stopping = true;
    await Promise.all(
      children.map(
        (child) =>
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
          }),
      ),
    );
    rmSync(state, { recursive: true, force: true });
  };

  // The page's tokens carry this origin as azp; the gateway must accept it.
  const parties = [`http://localhost:${gatewayPort}`, `http://${HOST}:${gatewayPort}`].join(",");
  const emulator = run("emulator", [
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
  ]);
  try {
    // One after the other: two `wrangler dev` starting at the same moment can pick the same free
    // port for their local dev-registry socket and one fails with "Address already in use".
    await waitFor(`${emulatorUrl}/__dev/users`, "The Clerk emulator", emulator, timeoutMs, options.signal);
    const gateway = run("gateway", [
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
    ]);
    await waitFor(`http://${HOST}:${gatewayPort}/healthz`, "The gateway", gateway, timeoutMs, options.signal);
  } catch (error) {
    await stop();
    throw error;
  }
  return { gatewayUrl, emulatorUrl, stop, pids: children.map((c) => c.pid) };
}
