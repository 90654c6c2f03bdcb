/**
 * Test-only configuration, shared by vitest.config.ts (Node) and the tests (workerd).
 * None of these values is a real credential: they only open the local Clerk emulator.
 */
export const TEST_PUBLISHABLE_KEY = "pk_test_aGFwcHktaGlwcG8tNDIuY2xlcmsuYWNjb3VudHMuZGV2JA";
/** What TEST_PUBLISHABLE_KEY decodes to: every accepted token carries this `iss`. */
export const TEST_ISSUER = "https://happy-hippo-42.clerk.accounts.dev";
export const TEST_SECRET_KEY = "sk_test_emulatorSecretKey0123456789abcdefABCDEF";
export const TEST_SERVICE_KEYS = ["gw_test_serviceKeyOne_5f0e8a7c1b", "gw_test_serviceKeyTwo_93d2c4e6a8"] as const;
export const TEST_WEBHOOK_SECRET = "whsec_0gZqzPl6bGSgZ8ICF7MxvAtK1oIxhKtH";
export const TEST_AUTHORIZED_PARTIES = ["http://localhost:8787", "https://app.example.com"] as const;
export const TEST_TEMPLATES_ALLOWED = ["supabase", "hasura"] as const;
export const TEST_API_URL = "https://api.clerk.com";
export const EMULATOR_INSTANCE_ID = "ins_2happyHippo42EmulatorInstance";

/** Vars and secrets the gateway under test runs with. */
export const gatewayBindings = {
  CLERK_SECRET_KEY: TEST_SECRET_KEY,
  CLERK_PUBLISHABLE_KEY: TEST_PUBLISHABLE_KEY,
  CLERK_API_URL: TEST_API_URL,
  CLERK_API_VERSION: "2026-05-12",
  CLERK_AUTHORIZED_PARTIES: TEST_AUTHORIZED_PARTIES.join(","),
  CLERK_WEBHOOK_SIGNING_SECRET: TEST_WEBHOOK_SECRET,
  GATEWAY_API_KEYS: TEST_SERVICE_KEYS.join(","),
  JWT_TEMPLATES_ALLOWED: TEST_TEMPLATES_ALLOWED.join(","),
  SESSION_CACHE_TTL_SECONDS: "30",
} as const;

/** Vars the emulator runs with (it plays the same Clerk instance). */
export const emulatorBindings = {
  CLERK_SECRET_KEY: TEST_SECRET_KEY,
  CLERK_PUBLISHABLE_KEY: TEST_PUBLISHABLE_KEY,
  CLERK_WEBHOOK_SIGNING_SECRET: TEST_WEBHOOK_SECRET,
  INSTANCE_ID: EMULATOR_INSTANCE_ID,
} as const;
