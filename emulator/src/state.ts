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
import { SEED_API_KEYS, SEED_M2M_TOKENS, SEED_MACHINES, SEED_OAUTH_TOKENS } from "./seed-machines";
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

/** An API key (`ak_…` ID; the secret is what callers present). */
export interface ApiKeyRecord {
  id: string;
  type: string;
  subject: string;
  name: string;
  description: string | null;
  claims: unknown;
  scopes: string[];
  secret: string;
  revoked: boolean;
  revocation_reason: string | null;
  /** Expiry in ms, or null for never. */
  expiration: number | null;
  created_by: string | null;
  last_used_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A machine (`mch_…`): holds a machine secret key and may be granted access to other machines. */
export interface MachineRecord {
  id: string;
  name: string;
  secret_key: string;
  /** Machines this one may call (its M2M tokens' `scopes`). */
  scoped_machine_ids: string[];
  default_token_ttl: number;
  created_at: number;
  updated_at: number;
}

/** An opaque M2M token (`mt_…`); JWT-format ones are not stored, as in Clerk. */
export interface M2MTokenRecord {
  id: string;
  subject: string;
  token: string;
  claims: unknown;
  scopes: string[];
  revoked: boolean;
  revocation_reason: string | null;
  expiration: number | null;
  last_used_at: number | null;
  created_at: number;
  updated_at: number;
}

/** An opaque OAuth access token (`oat_…`) that Clerk as an identity provider issued to an OAuth app. */
export interface OAuthTokenRecord {
  id: string;
  token: string;
  client_id: string;
  oauth_application_id: string;
  subject: string;
  scopes: string[];
  revoked: boolean;
  revocation_reason: string | null;
  expiration: number | null;
  created_at: number;
  updated_at: number;
}

/** A Frontend API client: the browser a session lives on. */
export interface ClientRecord {
  id: string;
  /** Sessions of this client, oldest first; sessions of the store with this `client_id`. */
  last_active_session_id: string | null;
  sign_in_id: string | null;
  /** Rotates on every response that sets the `__client` cookie. */
  rotating_token: string;
  created_at: number;
  updated_at: number;
}

/** A sign-in attempt (`sia_…`) of a client. */
export interface SignInRecord {
  id: string;
  client_id: string;
  user_id: string | null;
  identifier: string | null;
  status: "needs_identifier" | "needs_first_factor" | "complete";
  created_session_id: string | null;
  first_factor_failed_attempts: number;
  created_at: number;
  abandon_at: number;
}

/** A development instance's dev browser (`__clerk_db_jwt`), bound to at most one client. */
export interface DevBrowserRecord {
  id: string;
  client_id: string | null;
}

export class Store {
  readonly users = new Map<string, UserRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly templates = new Map<string, JwtTemplateDef>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly machines = new Map<string, MachineRecord>();
  readonly m2mTokens = new Map<string, M2MTokenRecord>();
  readonly oauthTokens = new Map<string, OAuthTokenRecord>();
  readonly clients = new Map<string, ClientRecord>();
  readonly signIns = new Map<string, SignInRecord>();
  readonly devBrowsers = new Map<string, DevBrowserRecord>();
  /** Handshake nonces → the Set-Cookie directives `GET /v1/clients/handshake_payload` hands out once. */
  readonly handshakeNonces = new Map<string, string[]>();
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
  seedMachineCredentials(store, now);
  return store;
}

/** Clerk's default lifetime of an M2M token without `seconds_until_expiration`. */
export const M2M_DEFAULT_TTL_SECONDS = 3600;

function seedMachineCredentials(store: Store, now: number): void {
  const created = now - 30 * DAY_MS;
  for (const k of SEED_API_KEYS) {
    store.apiKeys.set(k.id, {
      id: k.id,
      type: "api_key",
      subject: k.subject,
      name: k.name,
      description: null,
      claims: k.claims,
      scopes: [...k.scopes],
      secret: k.secret,
      revoked: k.revoked,
      revocation_reason: k.revoked ? "Revoked by user" : null,
      expiration: null,
      created_by: k.created_by,
      last_used_at: null,
      created_at: created,
      updated_at: k.revoked ? now - DAY_MS : created,
    });
  }
  const machineIds = new Map(SEED_MACHINES.map((m) => [m.key, m.id]));
  for (const m of SEED_MACHINES) {
    store.machines.set(m.id, {
      id: m.id,
      name: m.name,
      secret_key: m.secret_key,
      scoped_machine_ids: m.scoped_machine_keys.map((key) => machineIds.get(key) ?? key),
      default_token_ttl: M2M_DEFAULT_TTL_SECONDS,
      created_at: created,
      updated_at: created,
    });
  }
  for (const t of SEED_M2M_TOKENS) {
    const machine = store.machines.get(machineIds.get(t.machine_key) ?? "");
    if (!machine) continue;
    store.m2mTokens.set(t.id, {
      id: t.id,
      subject: machine.id,
      token: t.token,
      claims: t.claims,
      scopes: [...machine.scoped_machine_ids],
      revoked: false,
      revocation_reason: null,
      // Seeded tokens outlive any test run.
      expiration: now + 365 * DAY_MS,
      last_used_at: null,
      created_at: now - MINUTE_MS,
      updated_at: now - MINUTE_MS,
    });
  }
  for (const t of SEED_OAUTH_TOKENS) {
    store.oauthTokens.set(t.id, {
      id: t.id,
      token: t.token,
      client_id: t.client_id,
      oauth_application_id: t.oauth_application_id,
      subject: t.subject,
      scopes: [...t.scopes],
      revoked: false,
      revocation_reason: null,
      expiration: now + 365 * DAY_MS,
      created_at: now - MINUTE_MS,
      updated_at: now - MINUTE_MS,
    });
  }
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
