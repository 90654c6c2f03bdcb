/**
 * The Frontend API side of Clerk's handshake (@clerk/backend tokens/handshake.ts). A backend
 * that cannot tell whether a document request is signed in redirects the browser to
 * `GET /v1/client/handshake?redirect_url=…&format=nonce|token&suffixed_cookies=…`; the FAPI
 * looks the browser's client up (dev browser `__clerk_db_jwt`, or the `__client` cookie),
 * decides which cookies the app should set, and redirects back with either
 * `__clerk_handshake=<JWT {handshake: [Set-Cookie directives]}>` (format `token`) or
 * `__clerk_handshake_nonce=<nonce>`, which the backend exchanges once for the directives with
 * `GET /v1/clients/handshake_payload?nonce=` (format `nonce`). A development instance also
 * gets `__clerk_db_jwt` in the redirect (a new dev browser when the browser had none).
 */
import { clientSessions, clientUat, type ResolvedClient } from "./clients";
import type { RequestContext } from "./context";
import { randomOpaqueToken } from "./ids";
import { touchSession } from "./sessions";
import { signRaw, signSessionToken } from "./tokens";

/** `cat` Clerk's SDK ignores when deciding a token's kind (`JWT_CATEGORY_IGNORE`): the handshake token. */
const HANDSHAKE_CATEGORY = "cl_I7d4PD111III";
/** How long a handshake token or nonce is good for. */
const HANDSHAKE_LIFETIME_SECONDS = 60;
const YEAR_SECONDS = 365 * 24 * 60 * 60;

/** `getCookieSuffix` of @clerk/shared: the first 8 characters of url-safe base64(SHA-1(publishable key)). */
export async function cookieSuffix(publishableKey: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(publishableKey)));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .slice(0, 8);
}

export interface HandshakeOutcome {
  directives: string[];
  /** The session whose fresh token the directives carry, if any. */
  sessionId: string | null;
}

/**
 * The Set-Cookie directives for the app: a fresh `__session` and `__client_uat` for the client's
 * last active session, or both cleared when it has none; each also under the instance's suffixed
 * name when the SDK uses suffixed cookies; `__clerk_db_jwt` for a development instance.
 */
export async function handshakeDirectives(
  rc: RequestContext,
  resolved: ResolvedClient,
  options: { suffixed: boolean; devBrowserJwt: string | null; redirectOrigin: string | null },
): Promise<HandshakeOutcome> {
  const client = resolved.client;
  const sessions = client ? clientSessions(rc.store, client) : [];
  const session =
    sessions.find((s) => s.id === client?.last_active_session_id) ?? sessions[sessions.length - 1] ?? null;
  const names = options.suffixed ? ["", `_${await cookieSuffix(rc.config.publishableKey)}`] : [""];
  const directives: string[] = [];
  const attributes = "Path=/; SameSite=Lax";
  if (session) {
    touchSession(session);
    const jwt = await signSessionToken(rc.config, session, { azp: options.redirectOrigin ?? session.azp });
    const uat = clientUat(rc.store, client);
    for (const n of names) {
      directives.push(`__session${n}=${jwt}; ${attributes}`);
      directives.push(`__client_uat${n}=${uat}; ${attributes}; Max-Age=${YEAR_SECONDS}`);
    }
  } else {
    for (const n of names) {
      directives.push(`__session${n}=; ${attributes}; Max-Age=0`);
      directives.push(`__client_uat${n}=0; ${attributes}; Max-Age=${YEAR_SECONDS}`);
    }
  }
  if (options.devBrowserJwt) {
    for (const n of names)
      directives.push(`__clerk_db_jwt${n}=${options.devBrowserJwt}; ${attributes}; Max-Age=${YEAR_SECONDS}`);
  }
  return { directives, sessionId: session?.id ?? null };
}

/** `__clerk_handshake`: a JWT signed by the instance key, `{handshake: [directives]}`. */
export function handshakeToken(rc: RequestContext, directives: string[]): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return signRaw(
    rc.config,
    { cat: HANDSHAKE_CATEGORY },
    { exp: iat + HANDSHAKE_LIFETIME_SECONDS, handshake: directives, iat, iss: rc.config.issuer, nbf: iat - 5 },
  );
}

/** A one-time nonce standing for the directives (format `nonce`). */
export function handshakeNonce(rc: RequestContext, directives: string[]): string {
  const nonce = randomOpaqueToken(32);
  rc.store.handshakeNonces.set(nonce, directives);
  return nonce;
}

/** `GET /v1/clients/handshake_payload?nonce=`: the directives, once. */
export function takeHandshakePayload(rc: RequestContext, nonce: string): string[] | null {
  const directives = rc.store.handshakeNonces.get(nonce);
  if (!directives) return null;
  rc.store.handshakeNonces.delete(nonce);
  return directives;
}
