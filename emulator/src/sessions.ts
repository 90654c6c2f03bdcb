/**
 * Session domain operations. Every status change goes through `setSessionStatus` and every
 * creation through `createSession`, so the matching webhook is emitted whichever endpoint
 * (BAPI, dev or admin) caused it.
 */
import type { RequestContext } from "./context";
import { randomId, randomOpaqueToken } from "./ids";
import type { DeviceInfo } from "./seed";
import {
  activityFromDevice,
  SESSION_ABANDON_MS,
  SESSION_LIFETIME_MS,
  type SessionRecord,
  type Store,
  type UserRecord,
} from "./state";
import {
  eventForStatus,
  type SessionEventType,
  type SessionJSON,
  type SessionStatus,
  type WebhookSessionJSON,
} from "./types";
import { userJSON } from "./users";
import { publishSessionEvent } from "./webhooks";

/** BAPI `Session`, keys in the schema's order. */
export function sessionJSON(s: SessionRecord): SessionJSON {
  return {
    object: "session",
    id: s.id,
    user_id: s.user_id,
    client_id: s.client_id,
    actor: s.actor,
    status: s.status,
    last_active_organization_id: s.last_active_organization_id,
    last_active_at: s.last_active_at,
    latest_activity: s.latest_activity ? { ...s.latest_activity } : null,
    expire_at: s.expire_at,
    abandon_at: s.abandon_at,
    updated_at: s.updated_at,
    created_at: s.created_at,
    tasks: s.tasks ? s.tasks.map((t) => ({ ...t })) : null,
  };
}

/** Webhook `SessionEventPayload`: the session without `tasks`, plus the user. */
export function webhookSessionJSON(s: SessionRecord, user: UserRecord): WebhookSessionJSON {
  const { tasks: _tasks, ...rest } = sessionJSON(s);
  return { ...rest, user: userJSON(user) };
}

export interface SessionFilter {
  user_id?: string;
  client_id?: string;
  status?: SessionStatus;
}

/** Matching sessions, newest first (`created_at` desc, then insertion order desc). */
export function findSessions(store: Store, filter: SessionFilter): SessionRecord[] {
  return [...store.sessions.values()]
    .filter(
      (s) =>
        (filter.user_id === undefined || s.user_id === filter.user_id) &&
        (filter.client_id === undefined || s.client_id === filter.client_id) &&
        (filter.status === undefined || s.status === filter.status),
    )
    .sort((a, b) => b.created_at - a.created_at || b.seq - a.seq);
}

function emit(rc: RequestContext, type: SessionEventType, session: SessionRecord): void {
  const user = rc.store.users.get(session.user_id);
  if (!user) return;
  publishSessionEvent(rc, type, webhookSessionJSON(session, user));
}

export interface NewSessionOptions {
  device: DeviceInfo;
  azp: string;
  activeOrganizationId?: string | null;
  /** The client to sign in on (a Frontend API sign-in); a brand-new client otherwise. */
  clientId?: string;
}

/** Signs a user in (on a brand-new client unless `clientId` names one): a new active session. Emits `session.created`. */
export function createSession(rc: RequestContext, user: UserRecord, options: NewSessionOptions): SessionRecord {
  const now = Date.now();
  const session: SessionRecord = {
    id: randomId("sess"),
    user_id: user.id,
    client_id: options.clientId ?? randomId("client"),
    status: "active",
    actor: null,
    last_active_organization_id: options.activeOrganizationId ?? null,
    last_active_at: now,
    latest_activity: activityFromDevice(randomId("sact"), options.device),
    expire_at: now + SESSION_LIFETIME_MS,
    abandon_at: now + SESSION_ABANDON_MS,
    updated_at: now,
    created_at: now,
    tasks: null,
    refresh_token: randomOpaqueToken(),
    azp: options.azp,
    first_factor_at: now,
    seq: rc.store.nextSeq(),
  };
  rc.store.sessions.set(session.id, session);
  user.last_sign_in_at = now;
  user.last_active_at = now;
  user.updated_at = now;
  emit(rc, "session.created", session);
  return session;
}

/**
 * Moves a session to `status` as Clerk would, and emits the event Clerk has for it
 * (pending/ended/removed/revoked). No change, no event. Returns whether it changed.
 */
export function setSessionStatus(rc: RequestContext, session: SessionRecord, status: SessionStatus): boolean {
  if (session.status === status) return false;
  const now = Date.now();
  session.status = status;
  session.updated_at = now;
  // Pending means "tasks left to do"; every other status has none.
  session.tasks = status === "pending" ? (session.tasks ?? [{ key: "choose-organization" }]) : null;
  if (status === "expired") session.expire_at = Math.min(session.expire_at, now);
  if (status === "abandoned") session.abandon_at = Math.min(session.abandon_at, now);
  const event = eventForStatus(status);
  if (event) emit(rc, event, session);
  return true;
}

/** `POST /v1/sessions/{id}/revoke`: only active and pending sessions can be revoked. */
export function revokeSession(rc: RequestContext, session: SessionRecord): SessionRecord {
  if (session.status === "active" || session.status === "pending") setSessionStatus(rc, session, "revoked");
  return session;
}

/** Whether Clerk would mint a session token for it. */
export function canIssueTokens(session: SessionRecord): boolean {
  return session.status === "active" || session.status === "pending";
}

/** What clerk-js's token refresh does to a session: it is being used right now. */
export function touchSession(session: SessionRecord): void {
  session.last_active_at = Date.now();
}
