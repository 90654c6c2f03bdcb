/** See log-lines.mjs: one readable line for a gateway JSON log line; null drops wrangler's duplicate request lines. */
export function formatLogLine(line: string): string | null;
