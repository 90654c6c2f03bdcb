#!/usr/bin/env node
/**
 * What `c.get("clerk")` costs an app's bundle: one small app (clerkMiddleware + getAuth on one
 * route) built three ways with esbuild, minified, as a Worker bundler resolves it, gzip level 9:
 *   @clerk/hono                                   the app as written for Clerk's middleware
 *   clerk-session-gateway/hono                    the import changed (c.get("clerk") unread)
 *   … + clerk-session-gateway/hono/clerk-client   the same app reading c.get("clerk").users.getUser()
 *
 *   node bench/drop-in-bundle.mjs
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const hono = join(root, "src", "hono", "index.ts");
const clerkClient = join(root, "src", "hono", "clerk-client.ts");

const route = `app.get("/", (c) => c.json({ userId: getAuth(c).userId }));`;
const apps = {
  "@clerk/hono": `import { clerkMiddleware, getAuth } from "@clerk/hono";`,
  "clerk-session-gateway/hono": `import { clerkMiddleware, getAuth } from ${JSON.stringify(hono)};`,
  '… + /hono/clerk-client, c.get("clerk") read': `import { clerkMiddleware, getAuth } from ${JSON.stringify(hono)};
import ${JSON.stringify(clerkClient)};
app.get("/user", async (c) => c.json(await c.get("clerk").users.getUser(getAuth(c).userId ?? "")));`,
};

const work = await mkdtemp(join(tmpdir(), "drop-in-bundle-"));
try {
  for (const [name, imports] of Object.entries(apps)) {
    const [first, ...rest] = imports.split("\n");
    const source = `import { Hono } from "hono";\n${first}\n${rest.filter((l) => l.startsWith("import")).join("\n")}\nconst app = new Hono();\napp.use("*", clerkMiddleware());\n${route}\n${rest.filter((l) => !l.startsWith("import")).join("\n")}\nexport default app;\n`;
    const entry = join(work, "app.ts");
    await writeFile(entry, source);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      minify: true,
      write: false,
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      nodePaths: [join(root, "node_modules")],
      external: ["node:*", "cloudflare:*"],
      logLevel: "error",
    });
    const code = result.outputFiles[0].contents;
    const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
    console.log(
      `${name.padEnd(48)} ${kib(code.length).padStart(10)} minified ${kib(gzipSync(code, { level: 9 }).length).padStart(9)} gzip`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
