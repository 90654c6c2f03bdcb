/**
 * Reads `wrangler dev`'s start-up output for the one failure `npm start` retries: a port taken
 * between the check and the bind (scripts/dev-servers.mjs). Pure, so it is unit-tested
 * (test/address-in-use.test.ts).
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: wrangler colours its errors
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * The address a line of wrangler's output (or workerd's, or Node's, under it) says was already
 * in use: "127.0.0.1:8787", "[::1]:8787"; "" when it names none; null when the line is not about
 * that. Wrangler (miniflare): `✘ [ERROR] Address already in use (127.0.0.1:8787). Please check…`;
 * Node: `Error: listen EADDRINUSE: address already in use 127.0.0.1:9229`.
 * @param {string} line
 * @returns {string | null}
 */
export function addressInUse(line) {
  const text = line.replace(ANSI, "");
  if (!/address already in use|EADDRINUSE/i.test(text)) return null;
  const address = /(\[[0-9a-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}|localhost|\*):(\d{1,5})\b/i.exec(text);
  return address ? `${address[1]}:${address[2]}` : "";
}

/**
 * Whether an address from addressInUse is `port` (any host), or names no port at all (then the
 * port it failed on is unknown, and `port` is the one to check).
 * @param {string} address
 * @param {number} port
 */
export function isPort(address, port) {
  return address === "" || address.endsWith(`:${port}`);
}
