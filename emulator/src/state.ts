/**
 * The emulator's in-memory store. It lives in module memory: this is a dev/test stand-in,
 * one isolate is one Clerk instance, and a restart (or `POST /__emulator/reset`) reseeds it.
 *
 * Seeding is lazy because workerd forbids randomness and freezes the clock at module load;
 * "now" is read on the first request instead, and seeded timestamps are relative to it.
 */
import { seedId } from "./ids";
import {
  type DeviceInfo,
  type JwtTemplateDef,
  SEED_TEMPLATES,
  SEED_USER_DEFS,
  seedIdentity,
  seedRefreshToken,
  type UserIdentity,
} from "./seed";
import type { SessionActivityJSON, SessionJSON } from "./types";

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Clerk's default maximum session lifetime. */
export const SESSION_LIFETIME_MS = 7 * DAY_MS;
/** Inactivity window after which Clerk marks a session abandoned. */
export const SESSION_ABANDON_MS = 30 * DAY_MS;

export interface UserRecord extends UserIdentity {
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
  last_active_at: number | null;
}

/** A session as the emulator stores it: Clerk's `Session` fields plus what Clerk keeps private. */
export interface SessionRecord extends Omit<SessionJSON, "object"> {
  /** Opaque `__refresh` value that `POST /v1/sessions/{id}/refresh` must be given. Never serialized. */
  refresh_token: string;
  /** Origin the session signed in from: the `azp` of its session tokens. */
  azp: string;
  /** When the first factor was verified (sign-in): drives the `fva` claim. */
  first_factor_at: number;
  /** Insertion order; breaks `created_at` ties so "newest first" is stable. */
  seq: number;
}

export class Store {
  readonly users = new Map<string, UserRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly templates = new Map<string, JwtTemplateDef>();
  private seqCounter = 0;
  /** Dev sign-ins so far that named no device: each gets the next stand-in device (routes/dev.ts). */
  devSignIns = 0;

  nextSeq(): number {
    this.seqCounter += 1;
    return this.seqCounter;
  }
}

export function activityFromDevice(id: string, device: DeviceInfo): SessionActivityJSON {
  // Keep Clerk's key order and omit fields the device does not know.
  const activity: SessionActivityJSON = { object: "session_activity", id, is_mobile: device.is_mobile };
  if (device.device_type !== undefined) activity.device_type = device.device_type;
  if (device.browser_name !== undefined) activity.browser_name = device.browser_name;
  if (device.browser_version !== undefined) activity.browser_version = device.browser_version;
  if (device.ip_address !== undefined) activity.ip_address = device.ip_address;
  if (device.city !== undefined) activity.city = device.city;
  if (device.country !== undefined) activity.country = device.country;
  return activity;
}

function seedStore(now: number, defaultAzp: string): Store {
  const store = new Store();
  const ago = (minutes: number) => now - minutes * MINUTE_MS;
  for (const t of SEED_TEMPLATES) store.templates.set(t.name, t);
  for (const u of SEED_USER_DEFS) {
    const userId = seedId("user", u.key);
    const lastActive = u.sessions.length ? Math.min(...u.sessions.map((s) => s.lastActiveMinutesAgo)) : null;
    const lastSignIn = u.sessions.length ? Math.min(...u.sessions.map((s) => s.createdMinutesAgo)) : null;
    store.users.set(userId, {
      ...seedIdentity(u),
      created_at: ago(u.createdMinutesAgo),
      updated_at: ago(lastSignIn ?? u.createdMinutesAgo),
      last_sign_in_at: lastSignIn === null ? null : ago(lastSignIn),
      // Clerk reports the user's last activity with day precision.
      last_active_at: lastActive === null ? null : Math.floor(ago(lastActive) / DAY_MS) * DAY_MS,
    });
  }
  // Insert sessions oldest first, so `seq` agrees with `created_at`.
  const allSessions = SEED_USER_DEFS.flatMap((u) => u.sessions.map((s) => ({ user: u, s }))).sort(
    (a, b) => b.s.createdMinutesAgo - a.s.createdMinutesAgo,
  );
  for (const { user, s } of allSessions) {
    const created = ago(s.createdMinutesAgo);
    const record: SessionRecord = {
      id: seedId("sess", s.key),
      user_id: seedId("user", user.key),
      client_id: seedId("client", s.key),
      status: s.status,
      actor: null,
      last_active_organization_id: null,
      last_active_at: ago(s.lastActiveMinutesAgo),
      latest_activity: activityFromDevice(seedId("sact", s.key), s.device),
      expire_at: created + SESSION_LIFETIME_MS,
      abandon_at: created + SESSION_ABANDON_MS,
      updated_at: ago(s.updatedMinutesAgo ?? s.lastActiveMinutesAgo),
      created_at: created,
      tasks: s.tasks ? s.tasks.map((t) => ({ ...t })) : null,
      refresh_token: seedRefreshToken(s.key),
      azp: defaultAzp,
      first_factor_at: created,
      seq: store.nextSeq(),
    };
    // An expired session's expiry lies in the past, whatever its age suggests.
    if (s.status === "expired") record.expire_at = Math.min(record.expire_at, record.updated_at);
    if (s.status === "abandoned") record.abandon_at = Math.min(record.abandon_at, record.updated_at);
    store.sessions.set(record.id, record);
  }
  return store;
}

let current: { store: Store } | undefined;

/** The store, seeded on first use. */
export function getStore(defaultAzp: string): Store {
  if (!current) current = { store: seedStore(Date.now(), defaultAzp) };
  return current.store;
}

/** Throws the state away and seeds again (relative to the current time). */
export function reseed(defaultAzp: string): Store {
  current = { store: seedStore(Date.now(), defaultAzp) };
  return current.store;
}
