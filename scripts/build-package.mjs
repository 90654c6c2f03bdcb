#!/usr/bin/env node
/**
 * `npm run build`: the npm package `clerk-session-gateway` into dist/.
 *   dist/package.js (+ .d.ts)     the `.` export: building blocks
 *   dist/hono/index.js (+ .d.ts)  the `./hono` export: clerkMiddleware, getAuth, requireAuth, sessionGateway
 *   dist/openapi.js (+ .d.ts)     the `./openapi` export: the gateway's OpenAPI document, prebuilt
 *                                 (src/openapi-document.ts builds the same document from source)
 */
import { spawnSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWeb } from "./build-web.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

await rm(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// The same document the standalone Worker serves at /openapi.json (built from the routes' own schemas).
await buildWeb();
const document = (await readFile(join(root, "public/openapi.json"), "utf8")).trim();
await writeFile(
  join(dist, "openapi.js"),
  `/** The gateway's OpenAPI 3.1 document (generated). */\nexport default ${document};\n`,
);
await writeFile(
  join(dist, "openapi.d.ts"),
  "/** The gateway's OpenAPI 3.1 document. */\ndeclare const document: Record<string, unknown>;\nexport default document;\n",
);
