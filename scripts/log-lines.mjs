/**
 * Makes the gateway's JSON log lines (src/http/request-log.ts) readable in `npm start`:
 * one short line per request or audit event. The JSON itself is what production log
 * pipelines read; this is only for a person watching a terminal. Lines that are not the
 * gateway's JSON come back unchanged; wrangler's own request lines (which repeat ours) as null.
 */

const WRANGLER_REQUEST = /^\[wrangler:info\] (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ \d{3} /;

/** @param {string} id */
const short = (id) => (typeof id === "string" && id.length > 16 ? `${id.slice(0, 14)}…` : String(id));

/**
 * @param {string} line
 * @returns {string | null} the line to show, or null to drop it
 */
export function formatLogLine(line) {
  if (WRANGLER_REQUEST.test(line)) return null;
  if (!line.startsWith("{")) return line;
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== "object" || entry === null) return line;
  const time = typeof entry.time === "string" ? entry.time.slice(11, 19) : "";
  if (entry.msg === "request") {
    const who =
      entry.principal === "user"
        ? `user ${short(entry.user_id)} ${short(entry.session_id)}`
        : entry.principal === "service"
          ? `service key #${entry.service_key}`
          : "anonymous";
    const parts = [`${time} ${entry.method} ${entry.route} → ${entry.status}`, who];
    if (entry.error_code)
      parts.push(entry.auth_failure ? `${entry.error_code} (${entry.auth_failure})` : entry.error_code);
    if (entry.setting) parts.push(`setting ${entry.setting}`);
    if (entry.cache) parts.push(`cache ${entry.cache}`);
    if (entry.upstream_calls) parts.push(`Clerk ×${entry.upstream_calls} ${entry.upstream_ms} ms`);
    parts.push(`${entry.duration_ms} ms`);
    return parts.join("  ");
  }
  if (entry.msg === "audit") {
    const actor = entry.actor ?? {};
    const by =
      actor.kind === "user"
        ? `user ${short(actor.user_id)}`
        : actor.kind === "service"
          ? `service key #${actor.service_key}`
          : "anonymous";
    const outcome = entry.outcome === "ok" ? "ok" : `${entry.status} ${entry.error_code ?? "error"}`;
    const template = entry.template ? ` (${entry.template})` : "";
    return `${time}   audit ${entry.action}${template} ${short(entry.session_id)} ${outcome}, by ${by}`;
  }
  const rest = Object.entries(entry)
    .filter(([key]) => !["level", "time", "msg", "request_id"].includes(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${time} ${entry.level ?? "info"} ${entry.msg ?? ""} ${rest}`.trimEnd();
}
