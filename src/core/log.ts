/**
 * @module
 * The gateway's one way to write a log line: a JSON object per line, `level` and `time` first,
 * on the console stream of its level (Workers Logs keeps each field queryable). Callers pass
 * ids, kinds, statuses and durations, never a token or a key.
 */
export type LogLevel = "info" | "warn" | "error";

/** A line with `level` and `time` added in front of the fields. */
export function log(level: LogLevel, fields: Record<string, unknown>) {
  emit(level, { level, time: new Date().toISOString(), ...fields });
}

/** Writes one line whose `level` and `time` are already its first fields. */
export function emit(level: LogLevel, line: Record<string, unknown>) {
  const text = JSON.stringify(line);
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
}

/** Writes one line already serialised as JSON (the request log line builds its text directly). */
export function emitText(level: LogLevel, text: string) {
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
}
