/**
 * Hits and misses of the hot path's isolate memory since the isolate started: session
 * lists and "not revoked" (a miss is a read of the store behind them: KV, or the session
 * directory for revocations where one is bound) and verified tokens (a miss is an RSA
 * verification). The request log line carries the totals, so an operator, or
 * `npm run bench` under load, can read the memory layers' hit ratio without a new route.
 * Counting is two integer increments per request; nothing here holds a key or a token.
 */
export type MemoryLayer = "lists" | "revocations" | "tokens";

const hits: Record<MemoryLayer, number> = { lists: 0, revocations: 0, tokens: 0 };
const misses: Record<MemoryLayer, number> = { lists: 0, revocations: 0, tokens: 0 };
/** Revocation misses that asked the user's SessionDirectory object (the rest read KV markers). */
let directoryReads = 0;
/** Reads of the revocation log (the recent set's refreshes, in the background or waited for). */
let logReads = 0;

/** Counts one lookup of `layer` (a hit when `value` is defined) and hands the value back. */
export function countLookup<V>(layer: MemoryLayer, value: V | undefined): V | undefined {
  if (value === undefined) misses[layer]++;
  else hits[layer]++;
  return value;
}

/** Counts one lookup sent to a SessionDirectory object (answered or not). */
export function countDirectoryRead(): void {
  directoryReads++;
}

/** Counts one read of the revocation log (a refresh of the recent set). */
export function countLogRead(): void {
  logReads++;
}

/**
 * Totals since the isolate started, as the request log line carries them; `memory_store_reads`
 * are the misses that read a store (lists and revocations), the cost a warm path still pays;
 * `memory_directory_reads` are those of them that asked the session directory object;
 * `memory_log_reads` the refreshes of the recent set, counted in the store reads too.
 */
export function memoryLookupTotals(): {
  memory_hits: number;
  memory_misses: number;
  memory_store_reads: number;
  memory_directory_reads: number;
  memory_log_reads: number;
} {
  return {
    memory_hits: hits.lists + hits.revocations + hits.tokens,
    memory_misses: misses.lists + misses.revocations + misses.tokens,
    memory_store_reads: misses.lists + misses.revocations + logReads,
    memory_directory_reads: directoryReads,
    memory_log_reads: logReads,
  };
}

/** The same totals as the JSON fields of a log line being written (`,"memory_hits":N,…`), without an intermediate object. */
export function memoryLookupTotalsJson(): string {
  return `,"memory_hits":${hits.lists + hits.revocations + hits.tokens},"memory_misses":${
    misses.lists + misses.revocations + misses.tokens
  },"memory_store_reads":${misses.lists + misses.revocations + logReads},"memory_directory_reads":${directoryReads},"memory_log_reads":${logReads}`;
}

/** Per layer (tests, diagnostics). */
export function memoryLookups(): Record<MemoryLayer, { hits: number; misses: number }> {
  return {
    lists: { hits: hits.lists, misses: misses.lists },
    revocations: { hits: hits.revocations, misses: misses.revocations },
    tokens: { hits: hits.tokens, misses: misses.tokens },
  };
}
