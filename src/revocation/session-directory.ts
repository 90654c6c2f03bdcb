import { DurableObject } from "cloudflare:workers";
import { REVOCATION_TTL_SECONDS } from "../storage/kv-schema";

/**
 * `SessionDirectory`: one Durable Object per user (`idFromName(user_id)`), the strongly
 * consistent record of that user's revoked and ended sessions and of the webhook deliveries
 * applied for them. KV is eventually consistent (a marker can take up to 60 s to reach another
 * location); an object is one place, so a record written here is seen by every isolate in every
 * location on its next lookup. Schema and retention: docs/directory.md.
 *
 * Every method is synchronous SQL with no await in between, so each call runs to completion
 * before the next one starts (the object's input gate): a webhook id is claimed and its
 * revocation recorded in one step, and two concurrent copies of one delivery cannot both win.
 */

/**
 * How long a revocation record is kept: as long as a KV marker (REVOCATION_TTL_SECONDS, 7 days),
 * which is a day longer than the longest token lifetime the gateway accepts
 * (MAX_TOKEN_LIFETIME_SECONDS, src/auth/session-token.ts): a record outlives every token of its
 * session that could still verify.
 */
export const REVOCATION_RECORD_SECONDS = REVOCATION_TTL_SECONDS;
/** A delivery id is remembered this long: Svix retries a failed delivery for about a day and a half. */
export const WEBHOOK_CLAIM_SECONDS = 3 * 24 * 60 * 60;
/** Objects that only hold old records are checked for expired rows at most this often. */
export const PRUNE_INTERVAL_MS = 24 * 60 * 60 * 1000;

/**
 * The object that claims deliveries of events without a user (`user.updated`, …): they change
 * no session, so their claim only decides which copy answers 200. Not a valid user id, so it
 * never shares an object with a user.
 */
export const UNSCOPED_OBJECT_NAME = "webhooks:unscoped";

export type RevocationSource = "gateway" | "webhook";

export type RevocationRecord = {
  session_id: string;
  status: string;
  source: RevocationSource;
  revoked_at: number;
  expires_at: number;
};

export type WebhookClaim = {
  messageId: string;
  type: string;
  /** For session.ended/.removed/.revoked: the revocation recorded in the same step as the claim. */
  ended?: { sessionId: string; status: string };
};

export class SessionDirectory extends DurableObject {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    // Idempotent, and cheap once the tables exist: runs on every cold start of the object.
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS revoked (
      session_id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      source TEXT NOT NULL,
      revoked_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    )`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS webhook_claims (
      message_id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      claimed_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    )`);
  }

  /** True when the session was revoked or ended (and its record has not expired). */
  isRevoked(sessionId: string): boolean {
    const row = this.#sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM revoked WHERE session_id = ? AND expires_at > ?",
        sessionId,
        Date.now(),
      )
      .one();
    return row.n > 0;
  }

  /** Records a revocation; recording one again keeps the first record (its time and source). */
  async recordRevoked(sessionId: string, status: string, source: RevocationSource): Promise<void> {
    this.#insertRevoked(sessionId, status, source, Date.now());
    await this.#schedulePrune();
  }

  /**
   * Claims a webhook delivery: true for the first copy (and, for an ended session, the
   * revocation is recorded in the same step), false for every later copy, which changes nothing.
   */
  async claimWebhook(claim: WebhookClaim): Promise<boolean> {
    const now = Date.now();
    const inserted = this.#sql.exec(
      "INSERT INTO webhook_claims (message_id, type, claimed_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
      claim.messageId,
      claim.type,
      now,
      now + WEBHOOK_CLAIM_SECONDS * 1000,
    ).rowsWritten;
    if (inserted === 0) return false;
    if (claim.ended) this.#insertRevoked(claim.ended.sessionId, claim.ended.status, "webhook", now);
    await this.#schedulePrune();
    return true;
  }

  /** Every live revocation record, newest first (docs, tests, support). */
  revocations(): RevocationRecord[] {
    return this.#sql
      .exec<RevocationRecord>(
        "SELECT session_id, status, source, revoked_at, expires_at FROM revoked WHERE expires_at > ? ORDER BY revoked_at DESC",
        Date.now(),
      )
      .toArray();
  }

  /** Deletes expired rows; keeps an alarm while any row remains, so an idle object empties itself. */
  override async alarm(): Promise<void> {
    this.prune();
    const left = this.#sql
      .exec<{ next: number | null }>(
        "SELECT MIN(expires_at) AS next FROM (SELECT expires_at FROM revoked UNION ALL SELECT expires_at FROM webhook_claims)",
      )
      .one().next;
    if (left !== null) await this.ctx.storage.setAlarm(Math.max(left, Date.now() + PRUNE_INTERVAL_MS));
  }

  /** Deletes every expired row now; returns how many went. */
  prune(now = Date.now()): number {
    const revoked = this.#sql.exec("DELETE FROM revoked WHERE expires_at <= ?", now).rowsWritten;
    const claims = this.#sql.exec("DELETE FROM webhook_claims WHERE expires_at <= ?", now).rowsWritten;
    return revoked + claims;
  }

  #insertRevoked(sessionId: string, status: string, source: RevocationSource, now: number) {
    this.#sql.exec(
      // A live record is kept as it is (first time and source win); an expired, not yet pruned one is replaced.
      `INSERT INTO revoked (session_id, status, source, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET status = excluded.status, source = excluded.source,
         revoked_at = excluded.revoked_at, expires_at = excluded.expires_at
       WHERE revoked.expires_at <= excluded.revoked_at`,
      sessionId,
      status,
      source,
      now,
      now + REVOCATION_RECORD_SECONDS * 1000,
    );
  }

  /**
   * Expired webhook claims (3 days) and revocation records (7 days) are deleted by the alarm.
   * Setting it is a storage write, so it is only done when no alarm is pending. The rows were
   * written before this await, so awaiting here cannot interleave another call between them.
   */
  async #schedulePrune() {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS);
  }
}
