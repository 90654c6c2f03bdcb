#!/usr/bin/env node
/**
 * Keeps the copies of Clerk's OpenAPI specs in spec/clerk-openapi/ honest.
 *
 *   node scripts/refresh-clerk-specs.mjs --verify   offline: each file still hashes to the git blob
 *                                                  hash recorded in spec/clerk-openapi/SOURCE.md
 *   node scripts/refresh-clerk-specs.mjs [ref]      network: resolve ref (default: the upstream
 *                                                  default branch) to one commit, download the files
 *                                                  at that commit, check each against the blob hash
 *                                                  GitHub reports, then write them and SOURCE.md
 *
 * Git blob hashes are used because they are what upstream publishes for every file at every
 * commit: a copy whose `git hash-object` equals the upstream blob is byte-for-byte the upstream
 * file, which a reader can check without trusting this script. Nothing is written unless every
 * file downloaded and matched, so a failed refresh leaves the repository as it was.
 *
 * Other API versions: edit FILES below and the imports in test/support/openapi.ts.
 * CLERK_OPENAPI_API_BASE / CLERK_OPENAPI_RAW_BASE point the script at a mirror.
 */
import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const REPO = "clerk/openapi-specs";
const FILES = ["bapi/2026-05-12.yml", "fapi/2026-05-12.yml", "webhooks/2025-04-15.yml"];
const API = process.env.CLERK_OPENAPI_API_BASE ?? "https://api.github.com";
const RAW = process.env.CLERK_OPENAPI_RAW_BASE ?? "https://raw.githubusercontent.com";

const dir = fileURLToPath(new URL("../spec/clerk-openapi/", import.meta.url));
const sourcePath = `${dir}SOURCE.md`;

/** `git hash-object` of a file's bytes. */
export function gitBlobHash(bytes) {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** The `| \`path\` | … | \`hash\` |` rows of SOURCE.md's table. */
function recordedHashes(source) {
  const hashes = new Map();
  for (const match of source.matchAll(/^\| `([^`]+)` \|.*\| `([0-9a-f]{40})` \|$/gm)) hashes.set(match[1], match[2]);
  return hashes;
}

async function verify() {
  const recorded = recordedHashes(await readFile(sourcePath, "utf8"));
  let failures = 0;
  for (const path of FILES) {
    const expected = recorded.get(path);
    const actual = gitBlobHash(await readFile(`${dir}${path}`));
    if (expected === actual) {
      console.log(`ok       ${path} ${actual}`);
    } else {
      failures++;
      console.error(`MISMATCH ${path}: SOURCE.md records ${expected ?? "nothing"}, the file hashes to ${actual}`);
    }
  }
  if (failures > 0) {
    console.error("spec/clerk-openapi differs from what SOURCE.md records: restore the files or refresh them.");
    process.exit(1);
  }
}

async function get(url, as) {
  const response = await fetch(url, {
    headers: { accept: as === "json" ? "application/vnd.github+json" : "*/*", "user-agent": "refresh-clerk-specs" },
  });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
  return as === "json" ? response.json() : Buffer.from(await response.arrayBuffer());
}

async function refresh(ref) {
  const commit = await get(`${API}/repos/${REPO}/commits/${encodeURIComponent(ref)}`, "json");
  const sha = commit.sha;
  if (!/^[0-9a-f]{40}$/.test(sha ?? "")) throw new Error(`${ref} did not resolve to a commit`);
  const date = String(commit.commit?.committer?.date ?? "").slice(0, 10);
  const subject = String(commit.commit?.message ?? "").split("\n")[0];
  console.log(`${REPO}@${ref} is ${sha} (${date}, "${subject}")`);

  const downloaded = [];
  for (const path of FILES) {
    const meta = await get(`${API}/repos/${REPO}/contents/${path}?ref=${sha}`, "json");
    const bytes = await get(`${RAW}/${REPO}/${sha}/${path}`, "bytes");
    const hash = gitBlobHash(bytes);
    if (hash !== meta.sha) throw new Error(`${path}: downloaded bytes hash to ${hash}, GitHub reports ${meta.sha}`);
    downloaded.push({ path, bytes, hash });
  }

  let source = await readFile(sourcePath, "utf8");
  const before = recordedHashes(source);
  source = source
    .replace(/^- Commit: .*$/m, `- Commit: ${sha}`)
    .replace(/^- Commit date: .*$/m, `- Commit date: ${date} ("${subject.replace(/\$/g, "$$$$")}")`)
    .replace(
      /^- Copied into this repository: .*$/m,
      `- Copied into this repository: ${new Date().toISOString().slice(0, 10)}`,
    );
  for (const { path, hash } of downloaded) {
    source = source.replace(
      new RegExp(`^(\\| \`${path.replace(/[.]/g, "\\.")}\` \\|.*\\| \`)[0-9a-f]{40}(\` \\|)$`, "m"),
      `$1${hash}$2`,
    );
  }
  // Write each file beside its target, then rename: a reader never sees half a spec.
  for (const { path, bytes } of downloaded) {
    await writeFile(`${dir}${path}.tmp`, bytes);
    await rename(`${dir}${path}.tmp`, `${dir}${path}`);
  }
  await writeFile(sourcePath, source);
  for (const { path, hash } of downloaded) {
    console.log(`${before.get(path) === hash ? "same    " : "CHANGED "} ${path} ${hash}`);
  }
  console.log("Review `git diff spec/`, run `npm test`, then commit.");
}

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log("usage: node scripts/refresh-clerk-specs.mjs [--verify | <commit, branch or tag>]");
} else if (args.includes("--verify")) {
  await verify();
} else {
  await refresh(args[0] ?? "HEAD").catch((error) => {
    console.error(`refresh failed, nothing written: ${error.message}`);
    process.exit(1);
  });
}
