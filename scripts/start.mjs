#!/usr/bin/env node
/**
 * `npm start`: the gateway on http://localhost:8787 wired to the Clerk emulator on :8788,
 * both under `wrangler dev` (workerd), then a banner telling a newcomer what to do next,
 * then one readable line per request the gateway serves.
 * GATEWAY_PORT / EMULATOR_PORT move them; Ctrl-C stops both.
 */
import { relative } from "node:path";
import { AddressRaceError, PortBusyError, startDevServers } from "./dev-servers.mjs";
import { devSigningKey } from "./dev-signing-key.mjs";
import { formatLogLine } from "./log-lines.mjs";

/** @param {string} name @param {number} fallback */
function portFrom(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`npm start: ${name} must be a port number (1-65535), not ${JSON.stringify(raw)}.`);
    process.exit(2);
  }
  return port;
}

const gatewayPort = portFrom("GATEWAY_PORT", 8787);
const emulatorPort = portFrom("EMULATOR_PORT", 8788);
if (gatewayPort === emulatorPort) {
  console.error(`npm start: GATEWAY_PORT and EMULATOR_PORT are both ${gatewayPort}; they need a port each.`);
  process.exit(2);
}
const gatewayUrl = `http://localhost:${gatewayPort}`;
// The emulator's signing key, kept across starts (scripts/dev-signing-key.mjs).
const signingKey = devSigningKey(process.env.EMULATOR_SIGNING_KEY_FILE || undefined);
const inCheckout = relative(process.cwd(), signingKey.file);
const keyFile = inCheckout && !inCheckout.startsWith("..") ? inCheckout : signingKey.file;
if (signingKey.replaced)
  console.error(`npm start: ${keyFile} was ${signingKey.replaced}; replaced with a new dev key.`);

let servers;
let starting;
let stopping = false;
// Ctrl-C while wrangler is still starting must stop what was started too (each worker runs in
// its own process group, so the terminal's SIGINT does not reach it).
const cancelStart = new AbortController();
let ready = false;
// Until the banner, wrangler's start-up chatter (the bindings table, the readiness polls) is
// kept back and shown only if the start fails.
const held = [];

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  cancelStart.abort();
  await starting?.catch(() => {});
  await servers?.stop();
  process.exit(code);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

/** @param {string} name @param {string} line @param {"stdout" | "stderr"} stream */
function show(name, line, stream) {
  const text = name === "gateway" ? formatLogLine(line) : line;
  if (text === null) return;
  const out = `[${name}] ${text}\n`;
  if (!ready && stream === "stdout") held.push(out);
  else (stream === "stderr" ? process.stderr : process.stdout).write(out);
}

try {
  // wrangler builds the pages and /openapi.json first ([build] in wrangler.toml).
  starting = startDevServers({
    gatewayPort,
    emulatorPort,
    gatewayLogLevel: "log",
    signingKey: signingKey.jwk,
    signal: cancelStart.signal,
    onOutput: show,
    onExit: (name, code) => {
      if (!ready) process.stdout.write(held.splice(0).join(""));
      console.error(`[${name}] exited (${code ?? "signal"}); stopping.`);
      shutdown(code || 1);
    },
  });
  servers = await starting;
} catch (error) {
  if (stopping) await new Promise(() => {}); // shutdown() is under way and exits
  if (error instanceof PortBusyError || error instanceof AddressRaceError) {
    console.error(`\n  npm start: ${error.message}\n`);
  } else {
    process.stdout.write(held.splice(0).join(""));
    console.error(String(error));
  }
  await shutdown(1);
}
const emulatorUrl = servers.emulatorUrl;

const users = await fetch(`${emulatorUrl}/__dev/users`)
  .then((r) => r.json())
  .catch(() => null);
const list = Array.isArray(users?.users) ? users.users : Array.isArray(users) ? users : [];
const lines = list.map((u) => {
  const sessions = Array.isArray(u.sessions) ? u.sessions : [];
  const active = sessions.filter((s) => s.status === "active").length;
  return `    ${String(u.username ?? u.id).padEnd(8)} ${u.id}  ${active} active of ${sessions.length} sessions`;
});

held.length = 0;
ready = true;
console.log(`
  clerk-session-gateway is running against the local Clerk emulator.

    Start here       ${gatewayUrl}/          (links to everything below)
    Active devices   ${gatewayUrl}/devices   ← pick a user, see their devices, sign one out
    API reference    ${gatewayUrl}/docs      (OpenAPI 3.1: ${gatewayUrl}/openapi.json)
    Gateway API      ${gatewayUrl}/v1/...
    Clerk emulator   ${emulatorUrl}

  Seeded users:
${lines.join("\n") || "    (could not list them)"}

  Sign in as alice and list her active sessions:

    TOKEN=$(curl -s -X POST ${emulatorUrl}/__dev/sign_in -H 'content-type: application/json' \\
      -d '{"username":"alice"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
    curl -s ${gatewayUrl}/v1/me/sessions/active -H "Authorization: Bearer $TOKEN"

  Tokens live 60 s, as Clerk's do: run the first command again for a fresh one.
  Every start is a fresh Clerk: the emulator reseeds and the gateway's local KV starts empty.
  Its signing key stays (${keyFile}${signingKey.created ? ", created now" : ""}): Workers of your
  own keep verifying its tokens across restarts. Delete the file for a new key (and kid).
  Service calls use the dev key from emulator/gateway.dev.vars (GATEWAY_API_KEYS).
  Each request the gateway serves is logged below. Ctrl-C stops both workers.
`);
