/**
 * `npm start` checks its ports, then wrangler binds them: another program can take one in
 * between. Both outcomes, provoked with startDevServers' `beforeAttempt` hook, which runs after
 * the check and just before a wrangler starts:
 *   - the port is taken for a moment (let go as soon as wrangler reports it in use): the worker
 *     is started again and the stack comes up;
 *   - the port stays taken: a PortBusyError that says it was free when checked, naming the
 *     variable that moves it, and nothing of ours left running.
 * Used by the newcomer run (test/newcomer/newcomer.mjs).
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { addressInUse } from "../../scripts/address-in-use.mjs";
import { freePort, HOST, PortBusyError, portIsFree, startDevServers } from "../../scripts/dev-servers.mjs";

/** Two distinct free ports. */
async function twoPorts() {
  const gatewayPort = await freePort();
  let emulatorPort = await freePort();
  while (emulatorPort === gatewayPort) emulatorPort = await freePort();
  return { gatewayPort, emulatorPort };
}

/**
 * Listens on HOST:port, as another program would (answering nothing); `release()` lets it go,
 * dropping the connections startDevServers' readiness polls opened to it.
 */
function occupy(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    const sockets = new Set();
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    server.once("error", reject);
    const closed = new Promise((done) => server.once("close", done));
    const release = () => {
      if (server.listening) server.close();
      for (const socket of sockets) socket.destroy();
      return closed;
    };
    server.listen(port, HOST, () => resolve({ release }));
  });
}

/** @param {{ log?: (message: string) => void }} [options] */
export async function checkPortRace({ log = () => {} } = {}) {
  // portIsFree's probe does not keep Node alive; this does, while the checks wait on it.
  const alive = setInterval(() => {}, 1_000);
  try {
    await takenForAMoment(log);
    await takenForGood(log);
  } finally {
    clearInterval(alive);
  }
}

/** The gateway's port taken between the check and wrangler's bind, then let go. */
async function takenForAMoment(log) {
  const { gatewayPort, emulatorPort } = await twoPorts();
  const output = [];
  let holder = null;
  let servers;
  try {
    servers = await startDevServers({
      gatewayPort,
      emulatorPort,
      beforeAttempt: async ({ name, attempt }) => {
        if (name === "gateway" && attempt === 1) holder = await occupy(gatewayPort);
      },
      onOutput: (name, line) => {
        output.push(`[${name}] ${line}`);
        if (name === "gateway" && addressInUse(line) !== null) holder?.release();
      },
      timeoutMs: 90_000,
    });
    assert.ok(
      output.some((line) => addressInUse(line)?.endsWith(`:${gatewayPort}`)),
      `wrangler lost the port first:\n${output.join("\n")}`,
    );
    const retried = output.find((line) => line.includes("was taken just as wrangler started"));
    assert.ok(
      retried?.includes("starting the gateway again (attempt 2 of 3)"),
      `the lost race is retried, and said so:\n${output.join("\n")}`,
    );
    const health = await fetch(`http://${HOST}:${gatewayPort}/healthz`);
    assert.equal(health.status, 200, "the gateway started on the second attempt");
    log(`port taken for a moment: "${retried.replace(/^\[gateway\] /, "")}", then /healthz 200`);
  } finally {
    await holder?.release();
    await servers?.stop();
  }
}

/** The emulator's port taken between the check and the bind, and kept. */
async function takenForGood(log) {
  const { gatewayPort, emulatorPort } = await twoPorts();
  const output = [];
  let holder = null;
  try {
    const error = await startDevServers({
      gatewayPort,
      emulatorPort,
      beforeAttempt: async ({ name }) => {
        if (name === "emulator" && !holder) holder = await occupy(emulatorPort);
      },
      onOutput: (name, line) => output.push(`[${name}] ${line}`),
      timeoutMs: 90_000,
    }).then(
      () => assert.fail("startDevServers started on a port another program holds"),
      (e) => e,
    );
    assert.ok(error instanceof PortBusyError, `a PortBusyError, not ${error}\n${output.join("\n")}`);
    assert.match(error.message, new RegExp(`port ${emulatorPort} was free when checked, but another program took it`));
    assert.match(error.message, /EMULATOR_PORT/);
    assert.ok(await portIsFree(gatewayPort), "the gateway was never started");
    log(`port taken for good: "${error.message.split("\n")[0]}"`);
  } finally {
    await holder?.release();
  }
  assert.ok(await portIsFree(emulatorPort), "nothing of ours holds the emulator's port");
}
