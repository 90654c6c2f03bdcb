/**
 * The constants of today's design the scale model uses, read from the gateway's source, so the
 * model follows the code: change REVOCATION_NEGATIVE_MEMORY_MS in src/core/isolate-memory.ts and the
 * model changes with it. Each is an exported numeric constant (`export const NAME = 1_000;`, or a
 * product such as `10 * 60_000`); a missing or renamed one stops the bench instead of guessing.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Which constant, in which file. */
export const CODE_CONSTANTS = {
  REVOCATION_NEGATIVE_MEMORY_MS: "src/core/isolate-memory.ts",
  SESSION_LIST_MEMORY_MS: "src/core/isolate-memory.ts",
  SESSION_STATUS_MEMORY_MS: "src/core/isolate-memory.ts",
  ENTRY_OVERHEAD_BYTES: "src/core/isolate-memory.ts",
  DIRECTORY_TIMEOUT_MS: "src/revocation/directory-client.ts",
  DIRECTORY_FALLBACK_MAX_MS: "src/revocation/revocations.ts",
  SESSION_TOKEN_LIFETIME_SECONDS: "src/auth/session-token.ts",
  CLOCK_SKEW_SECONDS: "src/auth/session-token.ts",
};

/** `1_000`, `10 * 60_000`, `2 * 1024`: digits, underscores and products only. */
function evaluate(expression, name) {
  const factors = expression.split("*").map((f) => f.trim().replaceAll("_", ""));
  if (!factors.every((f) => /^\d+(\.\d+)?$/.test(f))) {
    throw new Error(`${name} is not a plain number in the source (${expression}); the scale model cannot read it`);
  }
  return factors.reduce((product, f) => product * Number(f), 1);
}

export function readCodeConstants(root = ROOT) {
  const sources = new Map();
  const out = {};
  for (const [name, file] of Object.entries(CODE_CONSTANTS)) {
    if (!sources.has(file)) sources.set(file, readFileSync(join(root, file), "utf8"));
    const match = sources.get(file).match(new RegExp(`export const ${name}\\s*=\\s*([^;]+);`));
    if (!match) throw new Error(`${name} not found in ${file}: the scale model follows the code and needs it`);
    out[name] = evaluate(match[1], name);
  }
  return out;
}
