#!/usr/bin/env node
/**
 * Builds what the Worker serves as static assets (public/), so the Worker bundle stays small:
 * - public/assets/devices.js, docs.js: the page scripts (web/*.ts, with the typed client);
 * - public/openapi.json: the OpenAPI 3.1 document, generated from the zod schemas in
 *   src/api/schemas.ts by src/api/openapi.ts (test/openapi.test.ts checks it is current).
 * Run by wrangler before `dev` and `deploy` ([build] in wrangler.toml), by the tests' global
 * setup, and by `npm start`. Both outputs are build products (.gitignore).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

export async function buildWeb() {
  await build({
    absWorkingDir: root,
    entryPoints: ["web/devices.ts", "web/docs.ts"],
    outdir: "public/assets",
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: false,
    logLevel: "warning",
  });

  const scratch = await mkdtemp(join(tmpdir(), "openapi-"));
  try {
    const generator = join(scratch, "openapi.mjs");
    await build({
      absWorkingDir: root,
      entryPoints: ["src/api/openapi.ts"],
      outfile: generator,
      bundle: true,
      format: "esm",
      platform: "node",
      logLevel: "warning",
    });
    const { buildOpenApiDocument } = await import(pathToFileURL(generator).href);
    await writeFile(join(root, "public/openapi.json"), `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await buildWeb();
}
