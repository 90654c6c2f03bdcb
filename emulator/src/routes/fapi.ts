/**
 * Clerk's Frontend API (FAPI 2026-05-12), what clerk-js needs to load, sign in with a password
 * and manage sessions: environment, dev browser, client, sign-ins, session tokens, touch,
 * end/remove/revoke, sign out, the handshake. Form-encoded bodies, `{response, client}` answers.
 * index.ts dispatches here by host (the issuer's, or the shared `frontend-api.clerk.dev` a proxy
 * calls) or by the `/__fapi` prefix, after the call log, faults, the proxy-header check and
 * `_method`; it adds CORS. Every session change goes through sessions.ts (same store, same
 * webhooks as the Backend API).
 */
import { type Context, Hono } from "hono";
import {
  attachClient,
  type ClientVia,
  clientCookieJwt,
  clientJSON,
  clientSessions,
  clientUat,
  createClient,
  createDevBrowser,
  devBrowserJwt,
  fapiActiveSessionJSON,
  fapiSessionJSON,
  newSignIn,
  type ResolvedClient,
  resolveClient,
  signInJSON,
  touchClient,
  userByIdentifier,
} from "../clients";
import { contextOf, type RequestContext } from "../context";
import { environmentJSON } from "../environment";
import { ClerkApiError, Errors, toResponse } from "../errors";
import { handshakeDirectives, handshakeNonce, handshakeToken } from "../handshake";
import { SEED_PASSWORD } from "../seed";
import {
  canIssueTokens,
  createSession,
  findSessions,
  revokeSession,
  setSessionStatus,
  touchSession,
} from "../sessions";
import type { ClientRecord, SessionRecord } from "../state";
import { jwks, signSessionToken, signTemplateToken } from "../tokens";
import { deviceFromUserAgent } from "../ua";

type Env = { Variables: { resolved: ResolvedClient; clearClient: boolean } };

export const fapi = new Hono<Env>();

const YEAR_SECONDS = 365 * 24 * 60 * 60;

function isDevelopment(rc: RequestContext): boolean {
  return rc.config.publishableKey.startsWith("pk_test_");
}

/** The browser's app origin: the `azp` of the tokens minted for it. */
function requestOrigin(request: Request): string | null {
  const origin = request.headers.get("origin");
  return origin && origin !== "null" ? origin : null;
}

/** FAPI bodies are `application/x-www-form-urlencoded` (clerk-js); JSON is accepted too. */
async function readForm(request: Request): Promise<Record<string, string>> {
  const text = await request.text();
  if (text.trim() === "") return {};
  if ((request.headers.get("content-type") ?? "").includes("application/json")) {
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === "object" && !Array.isArray(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? "" : String(v)]));
      }
    } catch {
      // fall through to the 400 below
    }
    throw Errors.requestBodyInvalid();
  }
  return Object.fromEntries(new URLSearchParams(text));
}

fapi.use("*", async (c, next) => {
  const rc = contextOf(c.req.raw);
  c.set("resolved", await resolveClient(rc, c.req.raw, new URL(c.req.url)));
  c.set("clearClient", false);
  await next();
  await setClientCookies(c, rc);
});

/**
 * The cookies Clerk's FAPI sets on its own domain for a browser it knows by cookie: `__client`
 * (HttpOnly) and `__client_uat`. A dev-browser client gets none (clerk-js keeps its state in
 * the app's cookies); a native client gets its token back in `Authorization`.
 */
async function setClientCookies(c: Context<Env>, rc: RequestContext): Promise<void> {
  const resolved = c.get("resolved");
  if (c.get("clearClient") && resolved.via === "cookie") {
    c.res.headers.append("set-cookie", "__client=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    c.res.headers.append("set-cookie", `__client_uat=0; Path=/; Max-Age=${YEAR_SECONDS}; Secure; SameSite=Lax`);
    return;
  }
  const client = resolved.client;
  if (!client) return;
  if (resolved.via === "cookie") {
    const expires = new Date(client.updated_at + 7 * 24 * 60 * 60 * 1000).toUTCString();
    const jwt = await clientCookieJwt(rc.config, client);
    c.res.headers.append("set-cookie", `__client=${jwt}; Path=/; Expires=${expires}; HttpOnly; Secure; SameSite=Lax`);
    c.res.headers.append(
      "set-cookie",
      `__client_uat=${clientUat(rc.store, client)}; Path=/; Max-Age=${YEAR_SECONDS}; Secure; SameSite=Lax`,
    );
  } else if (resolved.via === "native") {
    c.res.headers.set("authorization", await clientCookieJwt(rc.config, client));
  }
}

/** A development instance answers nothing client-bound to a browser without a dev browser. */
function requireBrowser(c: Context<Env>): ResolvedClient {
  const resolved = c.get("resolved");
  if (resolved.via === null && isDevelopment(contextOf(c.req.raw))) throw Errors.devBrowserUnauthenticated();
  return resolved;
}

function requireClient(c: Context<Env>): ClientRecord {
  const client = requireBrowser(c).client;
  if (!client) throw Errors.signedOut();
  return client;
}

function ensureClient(c: Context<Env>): ClientRecord {
  const resolved = requireBrowser(c);
  if (resolved.client) return resolved.client;
  const client = createClient(contextOf(c.req.raw).store);
  attachClient(resolved, client);
  return client;
}

function sessionOfClient(c: Context<Env>, id: string): { client: ClientRecord; session: SessionRecord } {
  const client = requireClient(c);
  const session = contextOf(c.req.raw).store.sessions.get(id);
  if (!session || session.client_id !== client.id) throw Errors.resourceNotFound("Session not found");
  return { client, session };
}

async function wrapped(c: Context<Env>, response: unknown, client: ClientRecord | null = c.get("resolved").client) {
  const rc = contextOf(c.req.raw);
  const clientBody = client ? await clientJSON(rc, client, requestOrigin(c.req.raw)) : null;
  return c.json({ response, client: clientBody });
}

// ── Instance ─────────────────────────────────────────────────────────────────────────────

fapi.get("/.well-known/jwks.json", async (c) => c.json(await jwks(contextOf(c.req.raw).config)));

fapi.on(["GET", "PATCH"], "/v1/environment", (c) => c.json(environmentJSON(contextOf(c.req.raw).config)));

/** `POST /v1/dev_browser`: a development instance's browser identity, `{id: <__clerk_db_jwt>}` as clerk-js reads it. */
fapi.post("/v1/dev_browser", async (c) => {
  const rc = contextOf(c.req.raw);
  const jwt = await devBrowserJwt(rc.config, createDevBrowser(rc.store));
  c.header("clerk-db-jwt", jwt);
  return c.json({ object: "dev_browser", id: jwt });
});

// ── Client ───────────────────────────────────────────────────────────────────────────────

/** The browser's client, or `null` for one that has none yet. */
fapi.get("/v1/client", async (c) => {
  const client = requireBrowser(c).client;
  const body = client ? await clientJSON(contextOf(c.req.raw), client, requestOrigin(c.req.raw)) : null;
  return c.json({ response: body, client: body });
});

fapi.on(["POST", "PUT"], "/v1/client", async (c) => {
  const resolved = requireBrowser(c);
  const client = createClient(contextOf(c.req.raw).store);
  if (resolved.devBrowser) resolved.devBrowser.client_id = client.id;
  resolved.client = client;
  if (resolved.via === null || resolved.via === "cookie") resolved.via = "cookie";
  const body = await clientJSON(contextOf(c.req.raw), client, requestOrigin(c.req.raw));
  return c.json({ response: body, client: body });
});

/** Sign out of every session on this client and forget it (`Client.destroy()`): each session ends. */
fapi.delete("/v1/client", async (c) => {
  const rc = contextOf(c.req.raw);
  const resolved = requireBrowser(c);
  const client = resolved.client;
  if (!client) throw Errors.resourceNotFound("Client not found");
  for (const s of clientSessions(rc.store, client)) setSessionStatus(rc, s, "ended");
  touchClient(client);
  if (resolved.devBrowser) resolved.devBrowser.client_id = null;
  c.set("clearClient", true);
  const body = await clientJSON(rc, client, null);
  resolved.client = null;
  return c.json({ response: body, client: null });
});

/** Sign out of every session, keeping the client (`Client.removeSessions()`, what `signOut()` calls): each is removed. */
fapi.delete("/v1/client/sessions", async (c) => {
  const rc = contextOf(c.req.raw);
  const client = requireBrowser(c).client;
  if (!client) throw Errors.resourceNotFound("Client not found");
  for (const s of clientSessions(rc.store, client)) setSessionStatus(rc, s, "removed");
  client.last_active_session_id = null;
  touchClient(client);
  const body = await clientJSON(rc, client, null);
  return c.json({ response: body, client: body });
});

/** `GET /v1/client/touch?redirect_url=`: refreshes the client cookie and redirects back. */
fapi.get("/v1/client/touch", (c) => {
  const client = requireClient(c);
  touchClient(client);
  const redirect = new URL(c.req.url).searchParams.get("redirect_url");
  if (!redirect) throw Errors.formParamMissing("redirect_url");
  return c.redirect(redirect, 307);
});

// ── Sign-in (identifier + password) ─────────────────────────────────────────────────────

function completeSignIn(c: Context<Env>, client: ClientRecord, signIn: ReturnType<typeof newSignIn>): SessionRecord {
  const rc = contextOf(c.req.raw);
  const user = signIn.user_id ? rc.store.users.get(signIn.user_id) : undefined;
  if (!user) throw Errors.formIdentifierNotFound();
  const ua = c.req.header("user-agent") ?? "";
  const session = createSession(rc, user, {
    device: { ...deviceFromUserAgent(ua), ip_address: rc.clientIp },
    azp: requestOrigin(c.req.raw) ?? rc.config.defaultAzp,
    clientId: client.id,
  });
  signIn.status = "complete";
  signIn.created_session_id = session.id;
  client.last_active_session_id = session.id;
  touchClient(client);
  return session;
}

function checkPassword(password: string | undefined): void {
  if (password === undefined || password === "") throw Errors.formParamMissing("password");
  if (password !== SEED_PASSWORD) throw Errors.formPasswordIncorrect();
}

fapi.post("/v1/client/sign_ins", async (c) => {
  const rc = contextOf(c.req.raw);
  const form = await readForm(c.req.raw);
  const client = ensureClient(c);
  // The instance is single-session, as Clerk's default: one signed-in session per client.
  if (clientSessions(rc.store, client).length > 0) throw Errors.sessionExists();
  const strategy = form.strategy || (form.password ? "password" : undefined);
  if (strategy !== undefined && strategy !== "password") {
    throw Errors.formParamInvalid("strategy", `${strategy} is not enabled for this instance; use password.`);
  }
  const identifier = form.identifier || null;
  const user = identifier ? userByIdentifier(rc.store, identifier) : undefined;
  if (identifier && !user) throw Errors.formIdentifierNotFound();
  if (strategy === "password" && !identifier) throw Errors.formParamMissing("identifier");
  if (strategy === "password") checkPassword(form.password);
  const signIn = newSignIn(rc.store, client, user ?? null, identifier);
  if (strategy === "password") completeSignIn(c, client, signIn);
  return wrapped(c, signInJSON(rc.store, signIn), client);
});

function signInOfClient(c: Context<Env>, id: string) {
  const client = requireClient(c);
  const signIn = contextOf(c.req.raw).store.signIns.get(id);
  if (!signIn || signIn.client_id !== client.id) throw Errors.resourceNotFound("Sign in not found");
  return { client, signIn };
}

fapi.get("/v1/client/sign_ins/:id", (c) => {
  const { client, signIn } = signInOfClient(c, c.req.param("id"));
  return wrapped(c, signInJSON(contextOf(c.req.raw).store, signIn), client);
});

fapi.post("/v1/client/sign_ins/:id/attempt_first_factor", async (c) => {
  const rc = contextOf(c.req.raw);
  const form = await readForm(c.req.raw);
  const { client, signIn } = signInOfClient(c, c.req.param("id"));
  if (signIn.status !== "needs_first_factor") {
    throw Errors.badRequest(`This sign in is ${signIn.status}; a first factor cannot be attempted.`);
  }
  if (form.strategy !== "password") throw Errors.formParamInvalid("strategy", "strategy must be password.");
  try {
    checkPassword(form.password);
  } catch (err) {
    if (err instanceof ClerkApiError) signIn.first_factor_failed_attempts += 1;
    throw err;
  }
  completeSignIn(c, client, signIn);
  return wrapped(c, signInJSON(rc.store, signIn), client);
});

// ── Sessions of the client ──────────────────────────────────────────────────────────────

fapi.get("/v1/client/sessions/:id", async (c) => {
  const { session } = sessionOfClient(c, c.req.param("id"));
  return wrapped(c, await fapiSessionJSON(contextOf(c.req.raw), session, requestOrigin(c.req.raw)));
});

/** Makes the session the client's active one and counts as activity (focus, setActive). */
fapi.post("/v1/client/sessions/:id/touch", async (c) => {
  await readForm(c.req.raw);
  const { client, session } = sessionOfClient(c, c.req.param("id"));
  if (!canIssueTokens(session)) throw Errors.signedOut();
  touchSession(session);
  client.last_active_session_id = session.id;
  touchClient(client);
  return wrapped(c, await fapiSessionJSON(contextOf(c.req.raw), session, requestOrigin(c.req.raw)));
});

fapi.post("/v1/client/sessions/:id/tokens", async (c) => {
  const rc = contextOf(c.req.raw);
  await readForm(c.req.raw);
  const { session } = sessionOfClient(c, c.req.param("id"));
  if (!canIssueTokens(session)) throw Errors.signedOut();
  touchSession(session);
  const jwt = await signSessionToken(rc.config, session, { azp: requestOrigin(c.req.raw) ?? session.azp });
  return c.json({ object: "token", jwt });
});

fapi.post("/v1/client/sessions/:id/tokens/:template", async (c) => {
  const rc = contextOf(c.req.raw);
  const { session } = sessionOfClient(c, c.req.param("id"));
  const template = rc.store.templates.get(c.req.param("template"));
  if (!template) throw Errors.resourceNotFound(`No JWT template exists with name: ${c.req.param("template")}`);
  if (!canIssueTokens(session)) throw Errors.signedOut();
  const user = rc.store.users.get(session.user_id);
  if (!user) throw Errors.resourceNotFound();
  return c.json({ object: "token", jwt: await signTemplateToken(rc.config, session, user, template, null) });
});

for (const [action, status] of [
  ["end", "ended"],
  ["remove", "removed"],
] as const) {
  fapi.post(`/v1/client/sessions/:id/${action}`, async (c) => {
    const rc = contextOf(c.req.raw);
    const { client, session } = sessionOfClient(c, c.req.param("id"));
    if (canIssueTokens(session)) setSessionStatus(rc, session, status);
    if (client.last_active_session_id === session.id) client.last_active_session_id = null;
    touchClient(client);
    return wrapped(c, await fapiSessionJSON(rc, session, null));
  });
}

// ── The signed-in user's sessions on every device (`/v1/me/…?_clerk_session_id=`) ───────

function currentSession(c: Context<Env>): SessionRecord {
  const id = new URL(c.req.url).searchParams.get("_clerk_session_id");
  const client = requireClient(c);
  const rc = contextOf(c.req.raw);
  const live = clientSessions(rc.store, client);
  const session = id ? live.find((s) => s.id === id) : live.find((s) => s.id === client.last_active_session_id);
  if (!session) throw Errors.signedOut();
  return session;
}

fapi.get("/v1/me/sessions/active", (c) => {
  const rc = contextOf(c.req.raw);
  const current = currentSession(c);
  const sessions = findSessions(rc.store, { user_id: current.user_id }).filter((s) => canIssueTokens(s));
  return c.json(sessions.map(fapiActiveSessionJSON));
});

fapi.post("/v1/me/sessions/:id/revoke", async (c) => {
  const rc = contextOf(c.req.raw);
  const current = currentSession(c);
  const session = rc.store.sessions.get(c.req.param("id"));
  if (!session || session.user_id !== current.user_id) throw Errors.resourceNotFound("Session not found");
  revokeSession(rc, session);
  return wrapped(c, await fapiSessionJSON(rc, session, null));
});

// ── Handshake ────────────────────────────────────────────────────────────────────────────

fapi.get("/v1/client/handshake", async (c) => {
  const rc = contextOf(c.req.raw);
  const url = new URL(c.req.url);
  const redirectUrl = url.searchParams.get("redirect_url");
  if (!redirectUrl) throw Errors.formParamMissing("redirect_url");
  let redirect: URL;
  try {
    redirect = new URL(redirectUrl);
  } catch {
    throw Errors.formParamInvalid("redirect_url", "redirect_url must be an absolute URL.");
  }
  const format = url.searchParams.get("format") ?? "token";
  if (format !== "token" && format !== "nonce")
    throw Errors.formParamInvalid("format", "format must be nonce or token.");
  const resolved = c.get("resolved");
  // A development instance's browser without a dev browser gets one, carried back in the redirect.
  let devJwt: string | null = null;
  if (isDevelopment(rc)) {
    const devBrowser = resolved.devBrowser ?? createDevBrowser(rc.store, resolved.client?.id ?? null);
    resolved.devBrowser = devBrowser;
    if (resolved.via === null) resolved.via = "dev_browser" satisfies ClientVia;
    devJwt = url.searchParams.get("__clerk_db_jwt") ?? (await devBrowserJwt(rc.config, devBrowser));
  }
  const { directives } = await handshakeDirectives(rc, resolved, {
    suffixed: url.searchParams.get("suffixed_cookies") === "true",
    devBrowserJwt: devJwt,
    redirectOrigin: redirect.origin,
  });
  if (format === "nonce") {
    redirect.searchParams.set("__clerk_handshake_nonce", handshakeNonce(rc, directives));
  } else {
    redirect.searchParams.set("__clerk_handshake", await handshakeToken(rc, directives));
  }
  if (devJwt) redirect.searchParams.set("__clerk_db_jwt", devJwt);
  c.header("cache-control", "no-store");
  return c.redirect(redirect.toString(), 307);
});

fapi.notFound((c) => toResponse(Errors.resourceNotFound(), contextOf(c.req.raw).traceId));

fapi.onError((err, c) => {
  const { traceId } = contextOf(c.req.raw);
  if (err instanceof ClerkApiError) return toResponse(err, traceId);
  console.error("clerk-emulator: unhandled FAPI error", err);
  return toResponse(Errors.internal(), traceId);
});
