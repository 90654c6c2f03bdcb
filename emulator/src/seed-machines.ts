/**
 * The deterministic seed of machine credentials: one API key per seeded user, one for an
 * organization, a revoked one, two machines (`mch_…`) with their machine secret keys, an opaque
 * M2M token and an opaque OAuth access token. Plain data with no side effects, like seed.ts:
 * tests read the values through `SEED.machineTokens` (or `GET /__emulator/machine_tokens`).
 *
 * Clerk's IDs here are hex (`ak_`/`mt_`/`oat_` + 32 hex digits); seeded ones are readable
 * (`ak_a11ce…`), their secrets are `<prefix>seed_<name>_…`, fixed across resets.
 */
import { seedId } from "./ids";

const hexId = (prefix: string, word: string) => `${prefix}_${word.padEnd(32, "0")}`;
const seedSecret = (prefix: string, name: string) => `${prefix}_seed_${name}_notASecret`;

export interface SeedApiKeyDef {
  key: string;
  id: string;
  secret: string;
  subject: string;
  name: string;
  scopes: string[];
  claims: Record<string, unknown> | null;
  created_by: string | null;
  revoked: boolean;
}

export interface SeedMachineDef {
  key: string;
  id: string;
  name: string;
  secret_key: string;
  scoped_machine_keys: string[];
}

export interface SeedM2MTokenDef {
  key: string;
  id: string;
  token: string;
  machine_key: string;
  claims: Record<string, unknown> | null;
}

export interface SeedOAuthTokenDef {
  key: string;
  id: string;
  token: string;
  subject: string;
  client_id: string;
  oauth_application_id: string;
  scopes: string[];
}

const user = (key: string) => seedId("user", key);
const ORG_ACME = seedId("org", "acme");

/** The seeded API keys: one per user (named after the user), one for organization `acme`, one revoked. */
export const SEED_API_KEYS: readonly SeedApiKeyDef[] = [
  ...(
    [
      ["alice", "a11ce"],
      ["bob", "b0b"],
      ["carol", "ca201"],
      ["dave", "da4e"],
    ] as const
  ).map(([key, hex]) => ({
    key,
    id: hexId("ak", hex),
    secret: seedSecret("ak", key),
    subject: user(key),
    name: `${key}-laptop-cli`,
    scopes: ["read", "write"],
    claims: null,
    created_by: user(key),
    revoked: false,
  })),
  {
    key: "acme",
    id: hexId("ak", "ac3e"),
    secret: seedSecret("ak", "acme"),
    subject: ORG_ACME,
    name: "acme-ci",
    scopes: ["read"],
    claims: { team: "platform" },
    created_by: user("alice"),
    revoked: false,
  },
  {
    key: "aliceRevoked",
    id: hexId("ak", "a11ce4e0"),
    secret: seedSecret("ak", "aliceRevoked"),
    subject: user("alice"),
    name: "alice-old-key",
    scopes: [],
    claims: null,
    created_by: user("alice"),
    revoked: true,
  },
];

/** Two machines: `worker` may call `reporter`. */
export const SEED_MACHINES: readonly SeedMachineDef[] = [
  {
    key: "worker",
    id: seedId("mch", "worker"),
    name: "Worker",
    secret_key: seedSecret("ak", "machineWorker"),
    scoped_machine_keys: ["reporter"],
  },
  {
    key: "reporter",
    id: seedId("mch", "reporter"),
    name: "Reporter",
    secret_key: seedSecret("ak", "machineReporter"),
    scoped_machine_keys: [],
  },
];

export const SEED_M2M_TOKENS: readonly SeedM2MTokenDef[] = [
  {
    key: "worker",
    id: hexId("mt", "3040e4"),
    token: seedSecret("mt", "worker"),
    machine_key: "worker",
    claims: { job: "nightly-report" },
  },
];

export const SEED_OAUTH_TOKENS: readonly SeedOAuthTokenDef[] = [
  {
    key: "alice",
    id: hexId("oat", "a11ce"),
    token: seedSecret("oat", "alice"),
    subject: user("alice"),
    client_id: "seed_oauth_client_dashboard",
    oauth_application_id: seedId("oa", "dashboard"),
    scopes: ["profile", "email"],
  },
];

/** The seeded machine credentials, everything a test needs to present or look them up. */
export const SEED_MACHINE_TOKENS = {
  apiKeys: Object.fromEntries(
    SEED_API_KEYS.map((k) => [k.key, { id: k.id, secret: k.secret, subject: k.subject, revoked: k.revoked }]),
  ) as Record<
    "alice" | "bob" | "carol" | "dave" | "acme" | "aliceRevoked",
    { id: string; secret: string; subject: string; revoked: boolean }
  >,
  organizationId: ORG_ACME,
  machines: Object.fromEntries(
    SEED_MACHINES.map((m) => [m.key, { id: m.id, name: m.name, secret_key: m.secret_key }]),
  ) as Record<"worker" | "reporter", { id: string; name: string; secret_key: string }>,
  m2mTokens: Object.fromEntries(
    SEED_M2M_TOKENS.map((t) => [
      t.key,
      { id: t.id, token: t.token, subject: seedId("mch", t.machine_key), scopes: [seedId("mch", "reporter")] },
    ]),
  ) as Record<"worker", { id: string; token: string; subject: string; scopes: string[] }>,
  oauthTokens: Object.fromEntries(
    SEED_OAUTH_TOKENS.map((t) => [
      t.key,
      { id: t.id, token: t.token, subject: t.subject, client_id: t.client_id, scopes: t.scopes },
    ]),
  ) as Record<"alice", { id: string; token: string; subject: string; client_id: string; scopes: string[] }>,
} as const;
