#!/usr/bin/env node
/**
 * `npm run build`: the npm package `clerk-session-gateway`, compiled into dist/ and staged, as
 * it is published, in .pack/ (`npm pack .pack`, `npm publish .pack`).
 *   dist/src/package.js (+ .d.ts, .js.map)     the `.` export: building blocks
 *   dist/src/hono/index.js (+ .d.ts, .js.map)  the `./hono` export: clerkMiddleware, getAuth, requireAuth, sessionGateway
 *   dist/client/index.js (+ .d.ts, .js.map)    the `./client` export: the typed client for the gateway's routes
 *   dist/openapi.js (+ .d.ts)                  the `./openapi` export: the gateway's OpenAPI document, prebuilt
 *                                              (src/openapi-document.ts builds the same document from source)
 * .pack/ holds what the tarball holds: dist/, the package's own README (package/README.md, not
 * the repository's), CHANGELOG.md, LICENSE, and package.json without the repository's scripts
 * and dev dependencies (so publishing from the repository root is refused by its prepublishOnly).
 */
import { spawnSync } from "node:child_process";
import { copyFile, cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWeb } from "./build-web.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const pack = join(root, ".pack");

await rm(dist, { recursive: true, force: true });
await rm(pack, { recursive: true, force: true });
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

// The package as published: the manifest without what only the repository uses.
const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
for (const field of ["scripts", "devDependencies", "allowScripts"]) delete manifest[field];
// The source entries listed for bundling the repository's own apps from src/ are not shipped.
manifest.sideEffects = manifest.sideEffects.filter((path) => !path.startsWith("./src/"));
await mkdir(pack);
await writeFile(join(pack, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
await cp(dist, join(pack, "dist"), { recursive: true });
await copyFile(join(root, "package", "README.md"), join(pack, "README.md"));
await copyFile(join(root, "CHANGELOG.md"), join(pack, "CHANGELOG.md"));
await copyFile(join(root, "LICENSE"), join(pack, "LICENSE"));
