/**
 * The Clerk emulator's signing key for `npm start`, kept between starts in a git-ignored file
 * (.wrangler/emulator-signing-key.json by default; EMULATOR_SIGNING_KEY_FILE moves it). The
 * emulator Worker has no filesystem, so this script generates the key once and passes it to the
 * emulator as its SIGNING_KEY var on every start.
 *
 * Why: a Worker of one's own running against the emulator caches its JWKS (memory and its local
 * KV). With a new key on every start, that cache would hold a different key under the same `kid`
 * and refuse every token until wiped. With this key, the JWKS stays the same across restarts.
 * (The emulator also derives the `kid` from the key, so a deleted file means a new `kid`, which a
 * verifier fetches afresh rather than failing the signature.)
 *
 * A development key only: it signs tokens of the local emulator, which nothing else trusts.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_SIGNING_KEY_FILE = join(ROOT, ".wrangler", "emulator-signing-key.json");
const MEMBERS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];

/** Why `text` is not a usable RSA private JWK, or null when it is. */
function problemWith(text) {
  let jwk;
  try {
    jwk = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (jwk?.kty !== "RSA") return "not an RSA key";
  const missing = MEMBERS.filter((name) => typeof jwk[name] !== "string" || jwk[name] === "");
  return missing.length > 0 ? `lacks ${missing.join(", ")}` : null;
}

/**
 * The key in `file` (an RSA private JWK, as JSON), created there when absent or unusable.
 * @param {string} [file]
 * @returns {{ jwk: string, file: string, created: boolean, replaced: string | null }}
 *   `replaced`: why an unusable file was replaced.
 */
export function devSigningKey(file = DEFAULT_SIGNING_KEY_FILE) {
  let replaced = null;
  try {
    const text = readFileSync(file, "utf8");
    replaced = problemWith(text);
    if (replaced === null) return { jwk: JSON.stringify(JSON.parse(text)), file, created: false, replaced };
  } catch (error) {
    if (error.code !== "ENOENT") replaced = `unreadable (${error.code ?? error.message})`;
  }
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
  const exported = privateKey.export({ format: "jwk" });
  const jwk = JSON.stringify(Object.fromEntries(["kty", ...MEMBERS].map((name) => [name, exported[name]])));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${jwk}\n`, { mode: 0o600 });
  return { jwk, file, created: true, replaced };
}
