/**
 * Frontend API clients: the browser a session lives on, how a request names it (a development
 * instance's dev browser `__clerk_db_jwt`, the `__client` cookie, or a native app's
 * `Authorization` header), its cookies, and the FAPI shapes of clients, sessions, users and
 * sign-ins (FAPI 2026-05-12). Sessions themselves stay in the one store sessions.ts changes,
 * so a session ended here is ended for the Backend API too, with the same webhook.
 */
import type { Config } from "./config";
import type { RequestContext } from "./context";
import { randomId, randomOpaqueToken } from "./ids";
import { findSessions } from "./sessions";
import type { ClientRecord, DevBrowserRecord, SessionRecord, SignInRecord, Store, UserRecord } from "./state";
import { signRaw, signSessionToken, verifyInstanceSignature } from "./tokens";
import { userJSON } from "./users";

/** Clerk's `__client` cookie lives 7 days after each update in development, a year in production; the emulator uses 7 days. */
export const CLIENT_COOKIE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** A sign-in attempt is abandoned after 24 hours. */
const SIGN_IN_ABANDON_MS = 24 * 60 * 60 * 1000;

export type ClientVia = "dev_browser" | "cookie" | "native" | null;

export interface ResolvedClient {
  client: ClientRecord | null;
  via: ClientVia;
  devBrowser: DevBrowserRecord | null;
}

function cookieValue(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Names (never values) of the cookies a request carried, for the call log. */
export function cookieNames(request: Request): string[] {
  const header = request.headers.get("cookie");
  if (!header) return [];
  return header
    .split(";")
    .map((p) => p.split("=")[0]?.trim() ?? "")
    .filter(Boolean);
}

/** A client as the store has it; sessions created through the Backend API get one on first use. */
export function clientById(store: Store, id: string): ClientRecord | undefined {
  const existing = store.clients.get(id);
  if (existing) return existing;
  const sessions = findSessions(store, { client_id: id });
  if (sessions.length === 0) return undefined;
  const oldest = sessions[sessions.length - 1] as SessionRecord;
  const live = sessions.find((s) => s.status === "active" || s.status === "pending");
  const record: ClientRecord = {
    id,
    last_active_session_id: live?.id ?? null,
    sign_in_id: null,
    rotating_token: randomOpaqueToken(20),
    created_at: oldest.created_at,
    updated_at: sessions[0]?.updated_at ?? oldest.created_at,
  };
  store.clients.set(id, record);
  return record;
}

export function createClient(store: Store): ClientRecord {
  const now = Date.now();
  const client: ClientRecord = {
    id: randomId("client"),
    last_active_session_id: null,
    sign_in_id: null,
    rotating_token: randomOpaqueToken(20),
    created_at: now,
    updated_at: now,
  };
  store.clients.set(client.id, client);
  return client;
}

export function createDevBrowser(store: Store, clientId: string | null = null): DevBrowserRecord {
  const record = { id: randomId("dvb"), client_id: clientId };
  store.devBrowsers.set(record.id, record);
  return record;
}

/** The `__clerk_db_jwt` value of a dev browser: a JWT signed by the instance, `{dev: "dvb_…"}`. */
export function devBrowserJwt(config: Config, devBrowser: DevBrowserRecord): Promise<string> {
  return signRaw(config, {}, { dev: devBrowser.id, iss: config.issuer });
}

/** The `__client` cookie value: a JWT signed by the instance, `{id: "client_…", rotating_token}`. */
export function clientCookieJwt(config: Config, client: ClientRecord): Promise<string> {
  return signRaw(config, {}, { id: client.id, rotating_token: client.rotating_token, iss: config.issuer });
}

async function devBrowserFrom(rc: RequestContext, token: string): Promise<DevBrowserRecord | null> {
  const claims = await verifyInstanceSignature(rc.config, token);
  if (!claims || typeof claims.dev !== "string") return null;
  return rc.store.devBrowsers.get(claims.dev) ?? null;
}

async function clientFromJwt(rc: RequestContext, token: string): Promise<ClientRecord | null> {
  const claims = await verifyInstanceSignature(rc.config, token);
  if (!claims || typeof claims.id !== "string") return null;
  return clientById(rc.store, claims.id) ?? null;
}

/**
 * Which client a Frontend API request speaks for: the dev browser in `__clerk_db_jwt` (query,
 * or the legacy `__dev_session`), else a native app's `Authorization` (with `_is_native`), else
 * the `__client` cookie. An unknown or forged value names no client.
 */
export async function resolveClient(rc: RequestContext, request: Request, url: URL): Promise<ResolvedClient> {
  const devToken = url.searchParams.get("__clerk_db_jwt") ?? url.searchParams.get("__dev_session");
  if (devToken) {
    const devBrowser = await devBrowserFrom(rc, devToken);
    if (devBrowser) {
      const client = devBrowser.client_id ? (clientById(rc.store, devBrowser.client_id) ?? null) : null;
      return { client, via: "dev_browser", devBrowser };
    }
  }
  const authorization = request.headers.get("authorization");
  if (url.searchParams.get("_is_native") === "true" && authorization) {
    const token = authorization.replace(/^Bearer\s+/i, "");
    return { client: await clientFromJwt(rc, token), via: "native", devBrowser: null };
  }
  const cookie = cookieValue(request, "__client");
  if (cookie) {
    const client = await clientFromJwt(rc, cookie);
    if (client) return { client, via: "cookie", devBrowser: null };
  }
  return { client: null, via: null, devBrowser: null };
}

/** Binds a new client to whatever named the request (the dev browser), or leaves it to the cookie. */
export function attachClient(resolved: ResolvedClient, client: ClientRecord): void {
  resolved.client = client;
  if (resolved.devBrowser) resolved.devBrowser.client_id = client.id;
  if (resolved.via === null) resolved.via = "cookie";
}

/** The client's signed-in sessions (active or pending), oldest first as in Clerk's `sessions`. */
export function clientSessions(store: Store, client: ClientRecord): SessionRecord[] {
  return findSessions(store, { client_id: client.id })
    .filter((s) => s.status === "active" || s.status === "pending")
    .reverse();
}

/** `__client_uat`: when the client last changed, in seconds; 0 when it has no signed-in session. */
export function clientUat(store: Store, client: ClientRecord | null): number {
  if (!client || clientSessions(store, client).length === 0) return 0;
  return Math.floor(client.updated_at / 1000);
}

export function touchClient(client: ClientRecord): void {
  client.updated_at = Date.now();
}

// ── FAPI shapes ──────────────────────────────────────────────────────────────────────────

/** FAPI `Client.User`: the BAPI user without what only the backend may read. */
export function fapiUserJSON(user: UserRecord): Record<string, unknown> {
  // FAPI's `create_organizations_limit` is an integer, never null: absent when there is no limit.
  const {
    private_metadata: _private,
    bypass_client_trust: _bypass,
    create_organizations_limit: limit,
    ...rest
  } = userJSON(user);
  return limit === null ? rest : { ...rest, create_organizations_limit: limit };
}

export function publicUserData(user: UserRecord): Record<string, unknown> {
  const image = userJSON(user).image_url;
  return {
    first_name: user.first_name,
    last_name: user.last_name,
    image_url: image,
    has_image: false,
    identifier: user.email_address,
    profile_image_url: image,
    user_id: user.id,
    username: user.username,
    banned: false,
    deprovisioned: false,
  };
}

/** FAPI's status enum has no `replaced`: to a browser a replaced session is over. */
function fapiStatus(status: SessionRecord["status"]): string {
  return status === "replaced" ? "ended" : status;
}

function factorVerificationAge(session: SessionRecord): number[] {
  return [Math.max(0, Math.floor((Date.now() - session.first_factor_at) / 60_000)), -1];
}

/**
 * FAPI `Client.Session`: with the user, `public_user_data` and, for a signed-in session, a fresh
 * `last_active_token` (clerk-js primes its token cache with it).
 */
export async function fapiSessionJSON(
  rc: RequestContext,
  session: SessionRecord,
  azp: string | null,
): Promise<Record<string, unknown>> {
  const user = rc.store.users.get(session.user_id);
  const live = session.status === "active" || session.status === "pending";
  const token = live ? await signSessionToken(rc.config, session, { azp: azp ?? session.azp }) : null;
  return {
    object: "session",
    id: session.id,
    status: fapiStatus(session.status),
    expire_at: session.expire_at,
    abandon_at: session.abandon_at,
    last_active_at: session.last_active_at,
    last_active_token: token ? { object: "token", jwt: token } : null,
    actor: session.actor,
    tasks: session.tasks ? session.tasks.map((t) => ({ ...t })) : null,
    last_active_organization_id: session.last_active_organization_id,
    ...(user ? { user: fapiUserJSON(user) } : {}),
    public_user_data: user ? publicUserData(user) : null,
    factor_verification_age: factorVerificationAge(session),
    created_at: session.created_at,
    updated_at: session.updated_at,
  };
}

/** `GET /v1/me/sessions/active` items: a session with its latest activity, no user. */
export function fapiActiveSessionJSON(session: SessionRecord): Record<string, unknown> {
  return {
    object: "session",
    id: session.id,
    status: fapiStatus(session.status),
    expire_at: session.expire_at,
    abandon_at: session.abandon_at,
    last_active_at: session.last_active_at,
    last_active_token: null,
    actor: session.actor,
    tasks: session.tasks ? session.tasks.map((t) => ({ ...t })) : null,
    ...(session.latest_activity ? { latest_activity: { ...session.latest_activity } } : {}),
    user: null,
  };
}

export function signInJSON(store: Store, signIn: SignInRecord): Record<string, unknown> {
  const user = signIn.user_id ? store.users.get(signIn.user_id) : undefined;
  const needsFactor = signIn.status === "needs_first_factor";
  return {
    object: "sign_in_attempt",
    id: signIn.id,
    status: signIn.status,
    supported_identifiers: ["email_address", "username"],
    supported_first_factors: needsFactor ? [{ strategy: "password" }] : [],
    supported_second_factors: null,
    first_factor_verification:
      signIn.status === "complete"
        ? { object: "verification_password", status: "verified", strategy: "password", attempts: 1, expire_at: null }
        : null,
    second_factor_verification: null,
    identifier: signIn.identifier,
    user_data: user
      ? {
          first_name: user.first_name,
          last_name: user.last_name,
          image_url: publicUserData(user).image_url,
          has_image: false,
        }
      : null,
    created_session_id: signIn.created_session_id,
    abandon_at: signIn.abandon_at,
  };
}

/** FAPI `Client.Client`. */
export async function clientJSON(
  rc: RequestContext,
  client: ClientRecord,
  azp: string | null,
): Promise<Record<string, unknown>> {
  const sessions = clientSessions(rc.store, client);
  const signIn = client.sign_in_id ? rc.store.signIns.get(client.sign_in_id) : undefined;
  const lastActive = sessions.some((s) => s.id === client.last_active_session_id)
    ? client.last_active_session_id
    : (sessions[sessions.length - 1]?.id ?? null);
  return {
    object: "client",
    id: client.id,
    sessions: await Promise.all(sessions.map((s) => fapiSessionJSON(rc, s, azp))),
    sign_in: signIn && signIn.status !== "complete" ? signInJSON(rc.store, signIn) : null,
    sign_up: null,
    last_active_session_id: lastActive,
    last_authentication_strategy: sessions.length > 0 ? "password" : null,
    cookie_expires_at: client.updated_at + CLIENT_COOKIE_LIFETIME_MS,
    captcha_bypass: false,
    created_at: client.created_at,
    updated_at: client.updated_at,
  };
}

export function newSignIn(store: Store, client: ClientRecord, user: UserRecord | null, identifier: string | null) {
  const now = Date.now();
  const signIn: SignInRecord = {
    id: randomId("sia"),
    client_id: client.id,
    user_id: user?.id ?? null,
    identifier,
    status: identifier === null ? "needs_identifier" : "needs_first_factor",
    created_session_id: null,
    first_factor_failed_attempts: 0,
    created_at: now,
    abandon_at: now + SIGN_IN_ABANDON_MS,
  };
  store.signIns.set(signIn.id, signIn);
  client.sign_in_id = signIn.id;
  return signIn;
}

/** A user by email address (case-insensitive) or username, as a sign-in identifier names them. */
export function userByIdentifier(store: Store, identifier: string): UserRecord | undefined {
  const lower = identifier.trim().toLowerCase();
  return [...store.users.values()].find(
    (u) => u.email_address.toLowerCase() === lower || u.username?.toLowerCase() === lower,
  );
}

/** A browser holding a client, for tests: its `__client` cookie and a new dev browser bound to it. */
export async function browserFor(rc: RequestContext, clientId: string) {
  const client = clientById(rc.store, clientId);
  if (!client) return null;
  const devBrowser = createDevBrowser(rc.store, client.id);
  return {
    client_id: client.id,
    client_cookie: await clientCookieJwt(rc.config, client),
    dev_browser: await devBrowserJwt(rc.config, devBrowser),
  };
}
