#!/usr/bin/env node
/**
 * `npm start`: the gateway on http://127.0.0.1:8787 wired to the Clerk emulator on :8788,
 * both under `wrangler dev` (workerd), then a banner telling a newcomer what to do next.
 * GATEWAY_PORT / EMULATOR_PORT move them; Ctrl-C stops both.
 */
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8787);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const host = "127.0.0.1";
const gatewayUrl = `http://localhost:${gatewayPort}`;
const emulatorUrl = `http://${host}:${emulatorPort}`;

const quietEnv = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const children = [];

function run(name, args) {
  const child = spawn("npx", ["wrangler", "dev", ...args], { env: quietEnv, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = `[${name}] `;
  const relay = (stream, out) =>
    stream.on("data", (chunk) => {
      for (const line of chunk.toString().split("\n")) if (line.trim()) out.write(`${prefix}${line}\n`);
    });
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.on("exit", (code) => {
    console.error(`${prefix}exited (${code ?? "signal"}); stopping.`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

async function waitFor(url, label) {
  for (let i = 0; i < 120; i++) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {}
    await sleep(500);
  }
  throw new Error(`${label} did not start at ${url}`);
}

run("emulator", [
  "-c",
  "emulator/wrangler.toml",
  "--ip",
  host,
  "--port",
  String(emulatorPort),
  "--var",
  `WEBHOOK_URL:http://${host}:${gatewayPort}/webhooks/clerk`,
  "--log-level",
  "warn",
]);
run("gateway", [
  "-c",
  "wrangler.toml",
  "--ip",
  host,
  "--port",
  String(gatewayPort),
  "--env-file",
  "emulator/gateway.dev.vars",
  "--var",
  `CLERK_API_URL:${emulatorUrl}`,
  "--log-level",
  "warn",
]);

try {
  await waitFor(`${emulatorUrl}/__dev/users`, "The Clerk emulator");
  await waitFor(`http://${host}:${gatewayPort}/healthz`, "The gateway");
} catch (error) {
  console.error(String(error));
  shutdown(1);
}

const users = await fetch(`${emulatorUrl}/__dev/users`)
  .then((r) => r.json())
  .catch(() => null);
const list = Array.isArray(users?.users) ? users.users : Array.isArray(users) ? users : [];
const lines = list.map((u) => {
  const sessions = Array.isArray(u.sessions) ? u.sessions : [];
  const active = sessions.filter((s) => s.status === "active").length;
  return `    ${String(u.username ?? u.id).padEnd(8)} ${u.id}  ${active} active of ${sessions.length} sessions`;
});

console.log(`
  clerk-session-gateway is running against the local Clerk emulator.

    Gateway          ${gatewayUrl}
    Active devices   ${gatewayUrl}/devices
    API reference    ${gatewayUrl}/docs
    Clerk emulator   ${emulatorUrl}

  Seeded users:
${lines.join("\n") || "    (could not list them)"}

  Sign in as alice and list her active sessions:

    TOKEN=$(curl -s -X POST ${emulatorUrl}/__dev/sign_in -H 'content-type: application/json' \\
      -d '{"username":"alice"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
    curl -s ${gatewayUrl}/v1/me/sessions/active -H "Authorization: Bearer $TOKEN"

  Tokens live 60 s, as Clerk's do: run the first command again for a fresh one.
  Service calls use the dev key from emulator/gateway.dev.vars (GATEWAY_API_KEYS).
  Ctrl-C stops both workers.
`);
