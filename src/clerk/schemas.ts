/**
 * @module
 * Clerk's Backend-API shapes, as far as the gateway relies on them. Objects are loose:
 * the gateway passes Clerk's JSON through unchanged and only insists on the fields it
 * reads, so a field Clerk adds tomorrow is neither lost nor a failure.
 */
import * as z from "zod/mini";

export const SESSION_STATUSES = [
  "active",
  "revoked",
  "ended",
  "expired",
  "removed",
  "abandoned",
  "replaced",
  "pending",
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** The `status` filter of GET /v1/sessions: Clerk's enum has no `pending`. */
export const SESSION_LIST_STATUSES = [
  "abandoned",
  "active",
  "ended",
  "expired",
  "removed",
  "replaced",
  "revoked",
] as const;

export const SessionActivity = z.looseObject({
  object: z.string(),
  id: z.string(),
  is_mobile: z.boolean(),
  device_type: z.optional(z.string()),
  browser_name: z.optional(z.string()),
  browser_version: z.optional(z.string()),
  ip_address: z.optional(z.string()),
  city: z.optional(z.string()),
  country: z.optional(z.string()),
});

export const Session = z.looseObject({
  object: z.literal("session"),
  id: z.string(),
  user_id: z.string(),
  client_id: z.string(),
  status: z.enum(SESSION_STATUSES),
  actor: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  last_active_organization_id: z.optional(z.nullable(z.string())),
  last_active_at: z.number(),
  latest_activity: z.optional(z.nullable(SessionActivity)),
  expire_at: z.number(),
  abandon_at: z.number(),
  updated_at: z.number(),
  created_at: z.number(),
  tasks: z.optional(z.nullable(z.array(z.looseObject({ key: z.string() })))),
});
export type Session = z.infer<typeof Session>;

export const SessionList = z.array(Session);
export const PaginatedSessionList = z.looseObject({ data: z.array(Session), total_count: z.number() });
export type PaginatedSessionList = z.infer<typeof PaginatedSessionList>;

export const Token = z.looseObject({ object: z.literal("token"), jwt: z.string() });
export const Cookies = z.looseObject({ object: z.literal("cookies"), cookies: z.array(z.string()) });
export const SessionRefresh = z.union([Token, Cookies]);

export const Jwk = z.looseObject({
  kty: z.string(),
  kid: z.optional(z.string()),
  alg: z.optional(z.string()),
  use: z.optional(z.string()),
  n: z.optional(z.string()),
  e: z.optional(z.string()),
});
export const Jwks = z.object({ keys: z.array(Jwk) });
export type Jwks = z.infer<typeof Jwks>;

/** One error of Clerk's envelope. Clerk may omit `long_message`; the gateway always sends it (src/core/errors.ts). */
export const ClerkError = z.looseObject({
  code: z.string(),
  message: z.string(),
  long_message: z.optional(z.string()),
  meta: z.optional(z.record(z.string(), z.unknown())),
});

/** Clerk's error envelope, the shape of every error Clerk and the gateway answer with. */
export const ClerkErrors = z.looseObject({
  errors: z.array(ClerkError),
  clerk_trace_id: z.optional(z.string()),
});
