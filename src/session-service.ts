import type { UserPrincipal } from "./auth/principal";
import { markRevoked } from "./cache/revocations";
import type { CacheStatus, SessionCache } from "./cache/session-cache";
import type { ClerkClient } from "./clerk/client";
import type { Session } from "./clerk/schemas";
import { ApiError, notFound } from "./errors";
import { log } from "./observability";

/**
 * Session operations that need both Clerk and the cache, shared by the browser (/v1/me)
 * and backend (/v1/sessions) routes: ownership checks that never reveal another user's
 * session, and revokes that touch the cache only after Clerk confirmed them.
 */
export class SessionService {
  readonly #clerk: ClerkClient;
  readonly #cache: SessionCache;
  readonly #kv: KVNamespace;
  readonly #onCacheTime: (ms: number) => void;

  constructor(deps: { clerk: ClerkClient; cache: SessionCache; kv: KVNamespace; onCacheTime: (ms: number) => void }) {
    this.#clerk = deps.clerk;
    this.#cache = deps.cache;
    this.#kv = deps.kv;
    this.#onCacheTime = deps.onCacheTime;
  }

  get clerk(): ClerkClient {
    return this.#clerk;
  }

  /** `currentSessionId`: the caller's own session, which a trustworthy list must contain. */
  async activeSessions(
    userId: string,
    currentSessionId?: string,
  ): Promise<{ sessions: Session[]; cache: CacheStatus }> {
    const started = Date.now();
    const upstreamBefore = this.#clerk.stats.ms;
    try {
      return await this.#cache.getActive(userId, () => this.#clerk.listActiveSessions(userId), currentSessionId);
    } finally {
      this.#onCacheTime(Date.now() - started - (this.#clerk.stats.ms - upstreamBefore));
    }
  }

  /**
   * The session, if it belongs to `user`; otherwise the same 404 whether it exists or not.
   * A session in the user's cached active list is theirs for good (sessions never change
   * owner), so that case costs no call to Clerk.
   */
  async ownedSession(sessionId: string, user: UserPrincipal): Promise<Session> {
    const cached = await this.activeSessions(user.userId, user.sessionId).catch(() => null);
    const hit = cached?.sessions.find((s) => s.id === sessionId);
    if (hit) return hit;
    try {
      const session = await this.#clerk.getSession(sessionId);
      if (session.user_id !== user.userId) throw notFound();
      return session;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw notFound();
      throw error;
    }
  }

  /** Revokes at Clerk; only once Clerk confirmed it are the revocation marker and the cached list written. */
  async revoke(sessionId: string, ownerId: string | undefined): Promise<Session> {
    const revoked = await this.#clerk.revokeSession(sessionId);
    await this.recordEnded(revoked.user_id ?? ownerId, sessionId, revoked.status, "gateway");
    return revoked;
  }

  /** A session Clerk says is over: refused from now on, and gone from its owner's active list. */
  async recordEnded(userId: string | undefined, sessionId: string, status: string, source: "gateway" | "webhook") {
    const writes: Promise<void>[] = [];
    if (status !== "active" && status !== "pending") writes.push(markRevoked(this.#kv, sessionId, status, source));
    if (userId) writes.push(this.#cache.removeSession(userId, sessionId));
    const results = await Promise.allSettled(writes);
    for (const result of results) {
      // Clerk has already done the write: a KV hiccup must not turn it into a reported failure.
      if (result.status === "rejected")
        log("error", { msg: "cache_write_failed", session_id: sessionId, error: String(result.reason) });
    }
  }

  /** A session appeared or changed: its owner's list is re-read from Clerk next time. */
  async invalidateUser(userId: string) {
    await this.#cache.invalidate(userId).catch((error) => {
      log("error", { msg: "cache_write_failed", user_id: userId, error: String(error) });
    });
  }
}
