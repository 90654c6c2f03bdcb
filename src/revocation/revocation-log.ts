import { DurableObject } from "cloudflare:workers";
import { type LogAnswer, type LogEntry, RECENT_WINDOW_MS } from "./recent-rules";

/**
 * `RevocationLog`: the recent revocations of the whole deployment, in order (docs/directory.md,
 * "Recent revocations per location"). Every revoke and every verified ended-session webhook
 * appends the session id here, after the user's SessionDirectory recorded it (the directory
 * stays the authority); isolates read what is new since their cursor about once a second.
 * Only the window tokens can live (RECENT_WINDOW_MS, 65 s) is kept: older rows are deleted by
 * the next append and never answered.
 *
 * One object per location hint (REVOCATION_LOG_REPLICAS): every append goes to all of them,
 * each isolate reads the one of its region. Each replica numbers its own entries; its epoch
 * (a random id kept in its storage) changes only if its storage is lost, which voids every
 * cursor on it: a reader then takes the whole window again.
 *
 * Every method is synchronous SQL (the object's input gate runs one call at a time).
 */
export class RevocationLog extends DurableObject {
  readonly #sql: SqlStorage;
  readonly #epoch: string;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS log (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      session_id TEXT NOT NULL,
      at INTEGER NOT NULL
    )`);
    this.#sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const stored = this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'epoch'").toArray()[0];
    this.#epoch = stored?.value ?? crypto.randomUUID();
    if (!stored) this.#sql.exec("INSERT INTO meta (key, value) VALUES ('epoch', ?)", this.#epoch);
  }

  /** Appends revoked sessions; returns the position of the last one. Prunes what left the window. */
  append(sessionIds: string[], now = Date.now()): number {
    // The newest row stays (its position is the high mark a cursor is compared with); reads skip it once old.
    this.#sql.exec("DELETE FROM log WHERE at <= ? AND seq < (SELECT MAX(seq) FROM log)", now - RECENT_WINDOW_MS);
    for (const sid of sessionIds) this.#sql.exec("INSERT INTO log (session_id, at) VALUES (?, ?)", sid, now);
    return this.#last();
  }

  /**
   * What is new after `cursor` on `epoch`: every entry of the window when the epoch is not this
   * replica's (a first read, or storage lost since). Entries that left the window are never answered.
   */
  since(cursor: number, epoch: string | null, now = Date.now()): LogAnswer {
    const from = epoch === this.#epoch ? cursor : 0;
    const horizon = now - RECENT_WINDOW_MS;
    const entries = this.#sql
      .exec<{ seq: number; sid: string; at: number }>(
        "SELECT seq, session_id AS sid, at FROM log WHERE seq > ? AND at > ? ORDER BY seq",
        from,
        horizon,
      )
      .toArray() as LogEntry[];
    const count =
      from === 0
        ? entries.length
        : this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM log WHERE at > ?", horizon).one().n;
    return { epoch: this.#epoch, seq: this.#last(), entries, count };
  }

  #last(): number {
    return this.#sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM log").one().seq ?? 0;
  }
}
