import type { UserPrincipal } from "../auth/principal";
import type { ClerkClient } from "../clerk/client";
import type { Session } from "../clerk/schemas";
import { ApiError, notFound } from "../core/errors";
import { log } from "../core/log";
import { keepAlive } from "../core/wait-until";
import { appendRecent } from "../revocation/recent";
import { markRevoked, type RevocationBindings } from "../revocation/revocations";
import type { CacheStatus, SessionCache } from "./session-cache";

/** What the app's service wiring sets on each request. */
export type SessionServiceVariables = { sessions: SessionService };

/** The session operations of the current request. */
export const sessionServiceOf = (c: { var: SessionServiceVariables }): SessionService => c.var.sessions;

/**
 * Session operations that need both Clerk and the cache, shared by the browser (/v1/me)
 * and backend (/v1/sessions) routes: ownership checks that never reveal another user's
 * session, and revokes that touch the cache only after Clerk confirmed them.
 */
export class SessionService {
  readonly #clerk: ClerkClient;
  readonly #cache: SessionCache;
  readonly #bindings: RevocationBindings;
  readonly #onCacheTime: (ms: number) => void;

  constructor(deps: {
    clerk: ClerkClient;
    cache: SessionCache;
    /** KV markers, and the SESSION_DIRECTORY object when bound: where revocations are recorded. */
    bindings: RevocationBindings;
    onCacheTime: (ms: number) => void;
  }) {
    this.#clerk = deps.clerk;
    this.#cache = deps.cache;
    this.#bindings = deps.bindings;
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
    const waited = { ms: 0 };
    try {
      return await this.#cache.getActive(
        userId,
        () => this.#clerk.listActiveSessions(userId),
        currentSessionId,
        waited,
      );
    } finally {
      // Cache time is what KV cost: the wait for Clerk (this request's own calls, or a call it
      // joined through single flight, which its own upstream stats do not see) is taken out.
      const upstream = Math.max(this.#clerk.stats.ms - upstreamBefore, waited.ms);
      this.#onCacheTime(Math.max(0, Date.now() - started - upstream));
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

  /**
   * Revokes at Clerk; only once Clerk confirmed it are the revocation marker and the cached
   * list written. When the revoke's answer is lost (timeout, dropped connection, 5xx, an
   * unreadable body) Clerk may have applied it anyway, so the session is read back once: a
   * session Clerk now reports ended is a confirmed revoke; anything else (still active, or
   * Clerk unreachable) leaves the cache as it was and the caller gets the original error,
   * which says the outcome is unknown.
   */
  async revoke(sessionId: string, ownerId: string | undefined): Promise<Session> {
    let revoked: Session;
    try {
      revoked = await this.#clerk.revokeSession(sessionId);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status < 500 || error.code !== "upstream_unavailable") throw error;
      const current = await this.#clerk.getSession(sessionId).catch(() => null);
      if (!current || current.status === "active" || current.status === "pending") throw error;
      log("warn", { msg: "revoke_confirmed_by_read", session_id: sessionId, status: current.status });
      revoked = current;
    }
    await this.recordEnded(revoked.user_id ?? ownerId, sessionId, revoked.status, "gateway");
    return revoked;
  }

  /**
   * A session Clerk says is over: refused from now on, and gone from its owner's active list.
   * Resolves once the revocation is recorded where other isolates look for it (the user's
   * object; `inDirectory`: a webhook claim already did); a failure there is the caller's error
   * (503). The owner's cached list is updated off the response path (`keepAlive`): KV takes one
   * write per key per second, so a list written a moment ago (the read just before a revoke)
   * would hold the answer up to a second, while this isolate already hides the session
   * (`isRevokedHere`) and every other one refuses it. A KV failure is a log line.
   */
  async recordEnded(
    userId: string | undefined,
    sessionId: string,
    status: string,
    source: "gateway" | "webhook",
    options: { inDirectory?: boolean } = {},
  ) {
    if (userId) {
      keepAlive(
        this.#cache.removeSession(userId, sessionId).catch((error) => {
          // Clerk has already done the write: a KV hiccup must not turn it into a reported failure.
          log("error", { msg: "cache_write_failed", session_id: sessionId, error: String(error) });
        }),
      );
    }
    if (status !== "active" && status !== "pending") {
      await markRevoked(this.#bindings, userId, sessionId, status, source, options);
    }
  }

  /**
   * A session appeared or changed: its owner's list is re-read from Clerk next time. Off the
   * response path: the list is marked stale in KV, then the change is appended to the
   * revocation log, so isolates that keep the list in memory drop it (src/sessions/session-cache.ts).
   */
  invalidateUser(userId: string): void {
    const recentLog = this.#bindings.REVOCATION_LOG;
    keepAlive(
      (async () => {
        await this.#cache.invalidate(userId).catch((error) => {
          log("error", { msg: "cache_write_failed", user_id: userId, error: String(error) });
        });
        if (recentLog) {
          await appendRecent(recentLog, [userId]).catch((error) => {
            log("warn", { msg: "revocation_log_append_failed", user_id: userId, error: String(error) });
          });
        }
      })(),
    );
  }
}
