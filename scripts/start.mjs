#!/usr/bin/env node
/**
 * `npm start`: the gateway on http://127.0.0.1:8787 wired to the Clerk emulator on :8788,
 * both under `wrangler dev` (workerd), then a banner telling a newcomer what to do next.
 * GATEWAY_PORT / EMULATOR_PORT move them; Ctrl-C stops both.
 */
import { startDevServers } from "./dev-servers.mjs";

const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8787);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const gatewayUrl = `http://localhost:${gatewayPort}`;

let servers;
let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  await servers?.stop();
  process.exit(code);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

try {
  // wrangler builds the pages and /openapi.json first ([build] in wrangler.toml).
  servers = await startDevServers({
    gatewayPort,
    emulatorPort,
    onOutput: (name, line, stream) =>
      (stream === "stderr" ? process.stderr : process.stdout).write(`[${name}] ${line}\n`),
    onExit: (name, code) => {
      console.error(`[${name}] exited (${code ?? "signal"}); stopping.`);
      shutdown(code ?? 1);
    },
  });
} catch (error) {
  console.error(String(error));
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

console.log(`
  clerk-session-gateway is running against the local Clerk emulator.

    Active devices   ${gatewayUrl}/devices   ← open this: pick a user, see their devices, sign one out
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
  Service calls use the dev key from emulator/gateway.dev.vars (GATEWAY_API_KEYS).
  Ctrl-C stops both workers.
`);
