/**
 * The emulator's deterministic seed: users, their sessions on several devices (every
 * session status appears somewhere) and the instance's JWT templates.
 *
 * This module is plain data with no side effects, so tests import it directly
 * (`SEED.users.alice.id`, `SEED.sessions.aliceDesktop.id`, …). Timestamps are stored as
 * offsets and turned into absolute times by `state.ts` when it (re)seeds.
 */
import { seedId } from "./ids";
import { SEED_MACHINE_TOKENS } from "./seed-machines";
import type { DeviceInfo, SessionStatus } from "./types";

export type { DeviceInfo } from "./types";

const MINUTE = 1;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface SeedSessionDef {
  /** Readable key; also the base of the session, client and activity IDs. */
  key: string;
  status: SessionStatus;
  device: DeviceInfo;
  createdMinutesAgo: number;
  lastActiveMinutesAgo: number;
  /** When the status last changed (ended, revoked, …); defaults to the last activity. */
  updatedMinutesAgo?: number;
  tasks?: { key: string }[];
}

interface SeedUserDef {
  key: string;
  first_name: string;
  last_name: string;
  username: string;
  email_address: string;
  createdMinutesAgo: number;
  sessions: SeedSessionDef[];
}

const macChrome: DeviceInfo = {
  device_type: "Macintosh",
  is_mobile: false,
  browser_name: "Chrome",
  browser_version: "131.0.0.0",
};

/** The seeded users. Alice and Bob have several live devices; Carol covers the odd statuses; Dave has none. */
export const SEED_USER_DEFS: readonly SeedUserDef[] = [
  {
    key: "alice",
    first_name: "Alice",
    last_name: "Anderson",
    username: "alice",
    email_address: "alice@example.com",
    createdMinutesAgo: 200 * DAY,
    sessions: [
      {
        key: "aliceDesktop",
        status: "active",
        device: { ...macChrome, ip_address: "203.0.113.10", city: "San Francisco", country: "US" },
        createdMinutesAgo: 2 * DAY,
        lastActiveMinutesAgo: 2 * MINUTE,
      },
      {
        key: "alicePhone",
        status: "active",
        device: {
          device_type: "iPhone",
          is_mobile: true,
          browser_name: "Safari",
          browser_version: "18.1",
          ip_address: "198.51.100.23",
          city: "London",
          country: "GB",
        },
        createdMinutesAgo: 1 * DAY,
        lastActiveMinutesAgo: 45 * MINUTE,
      },
      {
        key: "aliceLaptop",
        status: "active",
        device: {
          device_type: "Linux",
          is_mobile: false,
          browser_name: "Firefox",
          browser_version: "133.0",
          ip_address: "192.0.2.77",
          city: "Berlin",
          country: "DE",
        },
        createdMinutesAgo: 5 * DAY,
        lastActiveMinutesAgo: 3 * HOUR,
      },
      {
        key: "aliceEnded",
        status: "ended",
        device: {
          device_type: "Windows",
          is_mobile: false,
          browser_name: "Edge",
          browser_version: "130.0.0.0",
          ip_address: "203.0.113.54",
          city: "Seattle",
          country: "US",
        },
        createdMinutesAgo: 6 * DAY,
        lastActiveMinutesAgo: 4 * DAY,
      },
      {
        key: "aliceRevoked",
        status: "revoked",
        device: {
          device_type: "Android",
          is_mobile: true,
          browser_name: "Chrome",
          browser_version: "130.0.0.0",
          ip_address: "198.51.100.91",
          city: "Paris",
          country: "FR",
        },
        createdMinutesAgo: 3 * DAY,
        lastActiveMinutesAgo: 3 * DAY - 30 * MINUTE,
        updatedMinutesAgo: 1 * DAY,
      },
    ],
  },
  {
    key: "bob",
    first_name: "Bob",
    last_name: "Brown",
    username: "bob",
    email_address: "bob@example.com",
    createdMinutesAgo: 120 * DAY,
    sessions: [
      {
        key: "bobDesktop",
        status: "active",
        device: {
          device_type: "Macintosh",
          is_mobile: false,
          browser_name: "Safari",
          browser_version: "18.1",
          ip_address: "203.0.113.120",
          city: "New York",
          country: "US",
        },
        createdMinutesAgo: 4 * HOUR,
        lastActiveMinutesAgo: 10 * MINUTE,
      },
      {
        key: "bobPhone",
        status: "active",
        device: {
          device_type: "Android",
          is_mobile: true,
          browser_name: "Chrome",
          browser_version: "131.0.0.0",
          ip_address: "198.51.100.140",
          city: "Toronto",
          country: "CA",
        },
        createdMinutesAgo: 3 * DAY,
        lastActiveMinutesAgo: 1 * HOUR,
      },
      {
        key: "bobExpired",
        status: "expired",
        device: {
          device_type: "Windows",
          is_mobile: false,
          browser_name: "Firefox",
          browser_version: "128.0",
          ip_address: "192.0.2.200",
          city: "Chicago",
          country: "US",
        },
        createdMinutesAgo: 9 * DAY,
        lastActiveMinutesAgo: 8 * DAY,
        updatedMinutesAgo: 2 * DAY,
      },
      {
        key: "bobRemoved",
        status: "removed",
        device: {
          device_type: "iPhone",
          is_mobile: true,
          browser_name: "Safari",
          browser_version: "17.6",
          ip_address: "198.51.100.7",
          city: "Austin",
          country: "US",
        },
        createdMinutesAgo: 2 * DAY,
        lastActiveMinutesAgo: 1 * DAY,
      },
    ],
  },
  {
    key: "carol",
    first_name: "Carol",
    last_name: "Chen",
    username: "carol",
    email_address: "carol@example.com",
    createdMinutesAgo: 30 * DAY,
    sessions: [
      {
        key: "carolDesktop",
        status: "active",
        device: {
          device_type: "Windows",
          is_mobile: false,
          browser_name: "Chrome",
          browser_version: "131.0.0.0",
          ip_address: "203.0.113.201",
          city: "Sydney",
          country: "AU",
        },
        createdMinutesAgo: 6 * HOUR,
        lastActiveMinutesAgo: 5 * MINUTE,
      },
      {
        key: "carolPending",
        status: "pending",
        device: {
          device_type: "Macintosh",
          is_mobile: false,
          browser_name: "Safari",
          browser_version: "18.1",
          ip_address: "192.0.2.15",
          city: "Tokyo",
          country: "JP",
        },
        createdMinutesAgo: 20 * MINUTE,
        lastActiveMinutesAgo: 20 * MINUTE,
        tasks: [{ key: "choose-organization" }],
      },
      {
        key: "carolAbandoned",
        status: "abandoned",
        device: {
          device_type: "Android",
          is_mobile: true,
          browser_name: "Chrome",
          browser_version: "126.0.0.0",
          ip_address: "198.51.100.66",
          city: "Mumbai",
          country: "IN",
        },
        createdMinutesAgo: 29 * DAY,
        lastActiveMinutesAgo: 28 * DAY,
        updatedMinutesAgo: 1 * DAY,
      },
      {
        key: "carolReplaced",
        status: "replaced",
        device: {
          device_type: "Linux",
          is_mobile: false,
          browser_name: "Firefox",
          browser_version: "132.0",
          ip_address: "192.0.2.88",
          city: "Vancouver",
          country: "CA",
        },
        createdMinutesAgo: 1 * DAY,
        lastActiveMinutesAgo: 23 * HOUR,
      },
    ],
  },
  {
    key: "dave",
    first_name: "Dave",
    last_name: "Davis",
    username: "dave",
    email_address: "dave@example.com",
    createdMinutesAgo: 10 * DAY,
    sessions: [],
  },
];

/** A JWT template: custom claims (with `{{shortcode}}` interpolation) and a default lifetime. */
export interface JwtTemplateDef {
  name: string;
  lifetime: number;
  claims: Record<string, unknown>;
}

export const SEED_TEMPLATES: readonly JwtTemplateDef[] = [
  {
    name: "supabase",
    lifetime: 60,
    claims: {
      aud: "authenticated",
      role: "authenticated",
      email: "{{user.primary_email_address}}",
      app_metadata: {},
      user_metadata: {},
    },
  },
  {
    name: "hasura",
    lifetime: 60,
    claims: {
      "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user"],
        "x-hasura-default-role": "user",
        "x-hasura-user-id": "{{user.id}}",
      },
    },
  },
  {
    name: "internal_admin",
    lifetime: 300,
    claims: {
      role: "admin",
      scope: "sessions:read sessions:revoke",
      email: "{{user.primary_email_address}}",
      name: "{{user.first_name}} {{user.last_name}}",
    },
  },
];

/** Every user's password, for the Frontend API's password sign-in (not a secret: it opens only the emulator). */
export const SEED_PASSWORD = "emulator-password-1";

/** Refresh tokens of seeded sessions are fixed so tests can exercise `/refresh` without signing in. */
export function seedRefreshToken(sessionKey: string): string {
  return `rt_seed_${sessionKey}`;
}

export interface SeedSessionRef {
  id: string;
  client_id: string;
  user_id: string;
  activity_id: string;
  status: SessionStatus;
  refresh_token: string;
}

/** Who a user is: what the seed fixes, and what the emulator's user record starts from. */
export interface UserIdentity {
  id: string;
  first_name: string;
  last_name: string;
  username: string;
  email_address: string;
  email_address_id: string;
}

/** A seeded user's identity, the same in the store and in the test-facing seed references. */
export function seedIdentity(u: SeedUserDef): UserIdentity {
  return {
    id: seedId("user", u.key),
    first_name: u.first_name,
    last_name: u.last_name,
    username: u.username,
    email_address: u.email_address,
    email_address_id: seedId("idn", u.key),
  };
}

export interface SeedUserRef extends UserIdentity {
  /** Session IDs of this user, in seed order. */
  session_ids: string[];
}

export type SeedUserKey = "alice" | "bob" | "carol" | "dave";
export type SeedSessionKey =
  | "aliceDesktop"
  | "alicePhone"
  | "aliceLaptop"
  | "aliceEnded"
  | "aliceRevoked"
  | "bobDesktop"
  | "bobPhone"
  | "bobExpired"
  | "bobRemoved"
  | "carolDesktop"
  | "carolPending"
  | "carolAbandoned"
  | "carolReplaced";

function buildSeedRefs() {
  const users = {} as Record<SeedUserKey, SeedUserRef>;
  const sessions = {} as Record<SeedSessionKey, SeedSessionRef>;
  for (const u of SEED_USER_DEFS) {
    const userId = seedId("user", u.key);
    users[u.key as SeedUserKey] = {
      ...seedIdentity(u),
      session_ids: u.sessions.map((s) => seedId("sess", s.key)),
    };
    for (const s of u.sessions) {
      sessions[s.key as SeedSessionKey] = {
        id: seedId("sess", s.key),
        client_id: seedId("client", s.key),
        user_id: userId,
        activity_id: seedId("sact", s.key),
        status: s.status,
        refresh_token: seedRefreshToken(s.key),
      };
    }
  }
  return { users, sessions };
}

const refs = buildSeedRefs();

/** Seed IDs for tests: `SEED.users.alice.id`, `SEED.sessions.carolPending.id`, `SEED.templates`, … */
export const SEED = {
  users: refs.users,
  sessions: refs.sessions,
  templates: SEED_TEMPLATES.map((t) => t.name),
  /** The password of every user (Frontend API password sign-in). */
  password: SEED_PASSWORD,
  /** API keys, machines, M2M and OAuth tokens: `SEED.machineTokens.apiKeys.alice.secret`, … */
  machineTokens: SEED_MACHINE_TOKENS,
  /** A syntactically valid user ID that does not exist. */
  unknownUserId: seedId("user", "nobody"),
  /** A syntactically valid session ID that does not exist. */
  unknownSessionId: seedId("sess", "nobody"),
} as const;
