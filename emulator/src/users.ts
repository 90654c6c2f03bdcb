/** Serializes the emulator's users as BAPI `User` objects (schema-valid, mostly empty collections). */
import type { UserRecord } from "./state";
import type { UserJSON } from "./types";

/** Clerk serves an avatar URL even for users without an uploaded image. */
function defaultImageUrl(userId: string): string {
  return `https://img.clerk.com/emulator/default-avatar/${userId}`;
}

export function userJSON(u: UserRecord): UserJSON {
  const image = defaultImageUrl(u.id);
  return {
    id: u.id,
    object: "user",
    external_id: null,
    primary_email_address_id: u.email_address_id,
    primary_phone_number_id: null,
    primary_web3_wallet_id: null,
    username: u.username,
    first_name: u.first_name,
    last_name: u.last_name,
    locale: null,
    profile_image_url: image,
    image_url: image,
    has_image: false,
    public_metadata: {},
    private_metadata: {},
    unsafe_metadata: {},
    email_addresses: [
      {
        id: u.email_address_id,
        object: "email_address",
        email_address: u.email_address,
        reserved: false,
        verification: {
          object: "verification_otp",
          status: "verified",
          strategy: "email_code",
          attempts: 1,
          expire_at: u.created_at + 10 * 60_000,
        },
        linked_to: [],
        matches_sso_connection: false,
        created_at: u.created_at,
        updated_at: u.created_at,
      },
    ],
    phone_numbers: [],
    web3_wallets: [],
    passkeys: [],
    password_enabled: true,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    mfa_enabled_at: null,
    mfa_disabled_at: null,
    password_last_updated_at: null,
    external_accounts: [],
    saml_accounts: [],
    enterprise_accounts: [],
    organization_memberships: [],
    last_sign_in_at: u.last_sign_in_at,
    banned: false,
    locked: false,
    deprovisioned: false,
    lockout_expires_in_seconds: null,
    verification_attempts_remaining: null,
    updated_at: u.updated_at,
    created_at: u.created_at,
    delete_self_enabled: true,
    create_organization_enabled: true,
    create_organizations_limit: null,
    last_active_at: u.last_active_at,
    legal_accepted_at: null,
    bypass_client_trust: false,
  };
}
