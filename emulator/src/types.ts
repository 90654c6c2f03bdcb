/** Clerk's JSON shapes as the emulator emits them (BAPI 2026-05-12 unless noted). */

/**
 * `Session.status`, in the order of Clerk's enum, each with the webhook event that a change
 * to it announces, if Clerk has one (webhooks 2025-04-15).
 */
const STATUS_EVENTS = {
  active: null,
  revoked: "session.revoked",
  ended: "session.ended",
  expired: null,
  removed: "session.removed",
  abandoned: null,
  replaced: null,
  pending: "session.pending",
} as const satisfies Record<string, SessionEventType | null>;
export type SessionStatus = keyof typeof STATUS_EVENTS;
export const SESSION_STATUSES = Object.keys(STATUS_EVENTS) as SessionStatus[];

/** The `status` filter of `GET /v1/sessions`: every status but `pending`, in Clerk's (alphabetical) order. */
export const SESSION_LIST_STATUSES: readonly SessionStatus[] = SESSION_STATUSES.filter((s) => s !== "pending").sort();

/** `SessionActivityResponse`. */
export interface SessionActivityJSON extends DeviceInfo {
  object: "session_activity";
  id: string;
}

/** What a session's activity says about the device: the seed and dev sign-in describe devices with it. */
export interface DeviceInfo {
  device_type?: string;
  is_mobile: boolean;
  browser_name?: string;
  browser_version?: string;
  ip_address?: string;
  city?: string;
  country?: string;
}

/** BAPI `Session` (additionalProperties: false, so exactly these keys). */
export interface SessionJSON {
  object: "session";
  id: string;
  user_id: string;
  client_id: string;
  actor: Record<string, unknown> | null;
  status: SessionStatus;
  last_active_organization_id: string | null;
  last_active_at: number;
  latest_activity: SessionActivityJSON | null;
  expire_at: number;
  abandon_at: number;
  updated_at: number;
  created_at: number;
  tasks: { key: string }[] | null;
}

/** Webhook `Session` (no `tasks`) plus the user: `SessionEventPayload`. */
export type WebhookSessionJSON = Omit<SessionJSON, "tasks"> & { user: UserJSON };

export interface EmailAddressJSON {
  id: string;
  object: "email_address";
  email_address: string;
  reserved: boolean;
  verification: {
    object: "verification_otp";
    status: "verified";
    strategy: "email_code";
    attempts: number;
    expire_at: number;
  };
  linked_to: never[];
  matches_sso_connection: boolean;
  created_at: number;
  updated_at: number;
}

/** BAPI `User`: every required field, empty collections where the emulator has no data. */
export interface UserJSON {
  id: string;
  object: "user";
  external_id: string | null;
  primary_email_address_id: string | null;
  primary_phone_number_id: string | null;
  primary_web3_wallet_id: string | null;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  locale: string | null;
  profile_image_url: string;
  image_url: string;
  has_image: boolean;
  public_metadata: Record<string, unknown>;
  private_metadata: Record<string, unknown>;
  unsafe_metadata: Record<string, unknown>;
  email_addresses: EmailAddressJSON[];
  phone_numbers: never[];
  web3_wallets: never[];
  passkeys: never[];
  password_enabled: boolean;
  two_factor_enabled: boolean;
  totp_enabled: boolean;
  backup_code_enabled: boolean;
  mfa_enabled_at: number | null;
  mfa_disabled_at: number | null;
  password_last_updated_at: number | null;
  external_accounts: never[];
  saml_accounts: never[];
  enterprise_accounts: never[];
  organization_memberships: never[];
  last_sign_in_at: number | null;
  banned: boolean;
  locked: boolean;
  deprovisioned: boolean;
  lockout_expires_in_seconds: number | null;
  verification_attempts_remaining: number | null;
  updated_at: number;
  created_at: number;
  delete_self_enabled: boolean;
  create_organization_enabled: boolean;
  create_organizations_limit: number | null;
  last_active_at: number | null;
  legal_accepted_at: number | null;
  bypass_client_trust: boolean;
}

export interface ClerkErrorJSON {
  code: string;
  message: string;
  long_message: string;
  meta?: Record<string, unknown>;
}

export interface ClerkErrorsJSON {
  errors: ClerkErrorJSON[];
  clerk_trace_id?: string;
}

/** `Token` (`{object:"token", jwt}`). */
export interface TokenJSON {
  object: "token";
  jwt: string;
}

/** Session event types Clerk sends (webhooks 2025-04-15). */
export const SESSION_EVENT_TYPES = [
  "session.created",
  "session.pending",
  "session.ended",
  "session.removed",
  "session.revoked",
] as const;
export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

/** The event a status change announces, if Clerk has one for it. */
export function eventForStatus(status: SessionStatus): SessionEventType | null {
  return STATUS_EVENTS[status];
}
