/**
 * Typed helpers over the Clerk emulator's dev and admin endpoints, for every test file.
 *
 * In tests every outbound fetch lands on the emulator (vitest.config.ts `outboundService`),
 * so these use the global `fetch` with Clerk's real API host. None of them touches `/v1`,
 * so none of them shows up in the upstream call log.
 */
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { CallRecord } from "../../emulator/src/calls";
import type { FaultRule, FaultSpec } from "../../emulator/src/faults";
import { pathMatches } from "../../emulator/src/faults";
import type { DeviceInfo } from "../../emulator/src/seed";
import { SEED, type SeedUserKey } from "../../emulator/src/seed";
import type { SessionJSON, SessionStatus } from "../../emulator/src/types";
import type { WebhookDelivery } from "../../emulator/src/webhooks";

export { SEED, type SeedSessionKey, type SeedUserKey } from "../../emulator/src/seed";
export type { CallRecord, FaultRule, FaultSpec, SessionJSON, SessionStatus, WebhookDelivery };

/** Where the emulator answers in tests (any host would do; this is the one the gateway calls). */
export const EMULATOR_ORIGIN = "https://api.clerk.com";

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${EMULATOR_ORIGIN}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`emulator ${method} ${path} → ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * The `kid` of the emulator's signing key: its instance ID, then the start of the key's RFC 7638
 * thumbprint (emulator/src/tokens.ts). From the public JWKS, which is never in the call log.
 */
export async function emulatorKid(): Promise<string> {
  const { keys } = await request<{ keys: Array<{ kid: string }> }>("GET", "/.well-known/jwks.json");
  const kid = keys[0]?.kid;
  if (!kid) throw new Error("the emulator publishes no key");
  return kid;
}

/** Reseeds the emulator and clears its call log, faults and webhook outbox (the signing key stays). */
export async function resetEmulator(): Promise<void> {
  await request("POST", "/__emulator/reset");
}

export interface CallFilter {
  method?: string;
  /** `bapi` (the secret-key API) or `fapi` (the Frontend API a browser or proxy calls). */
  api?: CallRecord["api"];
  /** Exact path, a fault-style pattern (`/v1/sessions/*\/revoke`), or a RegExp. */
  path?: string | RegExp;
}

function matches(call: CallRecord, filter: CallFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.method && call.method !== filter.method.toUpperCase()) return false;
  if (filter.api && call.api !== filter.api) return false;
  if (filter.path instanceof RegExp) return filter.path.test(call.path);
  if (typeof filter.path === "string") return pathMatches(filter.path, call.path);
  return true;
}

/** The Backend and Frontend API requests the emulator received (calls that reached "Clerk"), oldest first. */
export async function emulatorCalls(filter?: CallFilter): Promise<CallRecord[]> {
  const { calls } = await request<{ calls: CallRecord[] }>("GET", "/__emulator/calls");
  return calls.filter((c) => matches(c, filter));
}

/** How many `/v1` requests reached the emulator (optionally only matching ones). */
export async function upstreamCalls(filter?: CallFilter): Promise<number> {
  return (await emulatorCalls(filter)).length;
}

export async function clearCalls(): Promise<void> {
  await request("DELETE", "/__emulator/calls");
}

/** Installs a fault on matching `/v1` requests; see emulator/README.md for the modes. */
export async function setFault(spec: FaultSpec): Promise<FaultRule> {
  return (await request<{ fault: FaultRule }>("POST", "/__emulator/faults", spec)).fault;
}

export async function listFaults(): Promise<FaultRule[]> {
  return (await request<{ faults: FaultRule[] }>("GET", "/__emulator/faults")).faults;
}

export async function clearFaults(): Promise<void> {
  await request("DELETE", "/__emulator/faults");
}

/** Signed session events in the emulator's outbox, oldest first (optionally of one type). */
export async function webhookDeliveries(type?: WebhookDelivery["type"]): Promise<WebhookDelivery[]> {
  const { deliveries } = await request<{ deliveries: WebhookDelivery[] }>("GET", "/__emulator/webhooks");
  return type ? deliveries.filter((d) => d.type === type) : deliveries;
}

export async function clearWebhookDeliveries(): Promise<void> {
  await request("DELETE", "/__emulator/webhooks");
}

export interface SignInOptions {
  user_id?: string;
  email_address?: string;
  username?: string;
  /** `azp` of the issued tokens; the emulator's DEFAULT_AZP (http://localhost:8787) otherwise. */
  origin?: string;
  user_agent?: string;
  device?: DeviceInfo;
}

export interface SignedIn {
  user_id: string;
  session_id: string;
  client_id: string;
  /** A 60 s session token. */
  token: string;
  refresh_token: string;
}

/** Signs a seeded user in on a new client (a new active session; emits `session.created`). */
export async function signIn(user: SeedUserKey | SignInOptions, options: Omit<SignInOptions, "user_id"> = {}) {
  const body = typeof user === "string" ? { ...options, user_id: SEED.users[user].id } : user;
  return request<SignedIn>("POST", "/__dev/sign_in", body);
}

/** A fresh 60 s session token for an active or pending session (what clerk-js fetches every 50 s). */
export async function freshToken(sessionId: string, origin?: string): Promise<string> {
  return (await request<{ jwt: string }>("POST", `/__dev/sessions/${sessionId}/token`, origin ? { origin } : {})).jwt;
}

/** Changes a session's status inside "Clerk" (emits the matching webhook when Clerk has one). */
export async function setSessionStatus(sessionId: string, status: SessionStatus): Promise<SessionJSON> {
  return request<SessionJSON>("POST", `/__emulator/sessions/${sessionId}/status`, { status });
}

/** A session as Clerk holds it, read without a `/v1` call (so not in the call log). */
export async function clerkSession(sessionId: string): Promise<SessionJSON> {
  return request<SessionJSON>("GET", `/__emulator/sessions/${sessionId}`);
}

/** Same as `clerkSession`. */
export const emulatorSession = clerkSession;

/** All of a user's sessions as Clerk holds them, newest first, without a `/v1` call. */
export async function clerkSessions(userId: string): Promise<SessionJSON[]> {
  const query = new URLSearchParams({ user_id: userId });
  return (await request<{ sessions: SessionJSON[] }>("GET", `/__emulator/sessions?${query}`)).sessions;
}

/** Same as `clerkSessions`. */
export const emulatorSessions = clerkSessions;

/**
 * Signs exactly `claims` with the instance key (RS256); `header` is merged over
 * `{alg:"RS256", kid:<instance id>, typ:"JWT"}`. `signature: "none"` leaves it empty,
 * `"invalid"` corrupts it.
 */
export async function signClaims(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  signature: "valid" | "none" | "invalid" = "valid",
): Promise<string> {
  return (await request<{ jwt: string }>("POST", "/__emulator/sign", { claims, header, signature })).jwt;
}

/**
 * A real session token for `sessionId`, re-signed with some claims or header fields changed,
 * e.g. `tokenWith(id, { exp: past, iat: past - 60 })` for an expired but otherwise valid token,
 * or `tokenWith(id, { azp: "https://evil.example" })`. A claim set to `undefined` is removed.
 */
export async function tokenWith(
  sessionId: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const original = await freshToken(sessionId);
  const merged: Record<string, unknown> = { ...decodeJwt(original), ...claims };
  for (const [key, value] of Object.entries(claims)) if (value === undefined) delete merged[key];
  return signClaims(merged, { ...decodeProtectedHeader(original), ...header });
}

/** A valid session token for `sessionId` that expired `secondsAgo` seconds ago. */
export async function expiredToken(sessionId: string, secondsAgo = 120): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now - secondsAgo;
  return tokenWith(sessionId, { exp, iat: exp - 60, nbf: exp - 70 });
}

export interface ClerkBrowser {
  client_id: string;
  /** The `__client` cookie value of the client (what a production browser sends the FAPI). */
  client_cookie: string;
  /** A new dev browser bound to the client: `__clerk_db_jwt` (what a development instance's browser sends). */
  dev_browser: string;
}

/** A browser holding a client (e.g. `SEED.sessions.aliceDesktop.client_id`), to speak to the Frontend API as it. */
export async function clerkBrowser(clientId: string): Promise<ClerkBrowser> {
  return request<ClerkBrowser>("POST", `/__emulator/clients/${clientId}/browser`);
}

export interface MintOAuthTokenOptions {
  user_id: string;
  token_format?: "opaque" | "jwt";
  scopes?: string[];
  client_id?: string;
  oauth_application_id?: string;
  audience?: string | string[];
  expires_in_seconds?: number;
}

/** An OAuth access token Clerk would have issued through its OAuth flow (opaque `oat_…` or an `at+jwt` JWT). */
export async function mintOAuthAccessToken(options: MintOAuthTokenOptions) {
  return request<{ id: string; token: string; token_format: "opaque" | "jwt" }>(
    "POST",
    "/__emulator/oauth_access_tokens",
    options,
  );
}

/** Every machine credential the emulator holds, secrets included (the seeded ones are in `SEED.machineTokens`). */
export async function machineTokens() {
  return request<{ api_keys: unknown[]; machines: unknown[]; m2m_tokens: unknown[]; oauth_access_tokens: unknown[] }>(
    "GET",
    "/__emulator/machine_tokens",
  );
}
