/**
 * A typed client for the gateway's ten operations, for browsers and services alike.
 * No dependencies: `fetch` and types only (the request types come from the same zod
 * schemas the gateway validates with, the response types from the shapes it returns).
 *
 *   const gw = createGatewayClient({ baseUrl: "https://sessions.example.com", token: () => Clerk.session.getToken() });
 *   const devices = await gw.me.activeSessions();
 *   await gw.me.revoke(devices[1].id);
 *
 * Every non-2xx answer throws a `GatewayError` carrying Clerk's error envelope.
 */
import type { CreateSessionBody, ListSessionsQuery, RefreshSessionBody, TokenBody } from "../src/api/schemas";
import type { FapiActiveSession, FapiSession } from "../src/clerk/fapi";
import type { Session } from "../src/clerk/schemas";
import type { ClerkErrorBody } from "../src/core/errors";

export type {
  CreateSessionBody,
  FapiActiveSession,
  FapiSession,
  ListSessionsQuery,
  RefreshSessionBody,
  Session,
  TokenBody,
};

export type Token = { object: "token"; jwt: string };
export type Cookies = { object: "cookies"; cookies: string[] };
export type PaginatedSessions = { data: Session[]; total_count: number };
export type RevokeResponse = { response: FapiSession; client: null };

/** One error of Clerk's envelope, as the gateway sends it. */
export type ClerkError = ClerkErrorBody;

/** A credential: a Clerk session token (user) or a service key; a function is asked before every call. */
export type Credential =
  | string
  | null
  | undefined
  | (() => string | null | undefined | Promise<string | null | undefined>);

export interface GatewayClientOptions {
  /** The gateway's origin, e.g. `https://sessions.example.com`; "" for the page's own origin. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`. Omit it to rely on the `__session` cookie. */
  token?: Credential;
  /** A fetch to use instead of the global one (tests, service bindings). */
  fetch?: (request: Request) => Promise<Response>;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly errors: ClerkError[];
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, errors: ClerkError[], retryAfter: string | null) {
    super(errors[0]?.long_message ?? errors[0]?.message ?? `The gateway answered ${status}`);
    this.name = "GatewayError";
    this.status = status;
    this.errors = errors;
    this.retryAfterSeconds = retryAfter ? Number(retryAfter) : undefined;
  }

  /** Clerk's error code (`authentication_invalid`, `session_reverification_required`, …). */
  get code(): string {
    return this.errors[0]?.code ?? "unknown_error";
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function createGatewayClient(options: GatewayClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((request: Request) => fetch(request));

  async function request<T>(
    method: "GET" | "POST",
    path: string,
    init: { query?: Query; body?: unknown; credential?: Credential } = {},
  ): Promise<T> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    const search = params.size > 0 ? `?${params}` : "";
    const headers = new Headers({ Accept: "application/json" });
    const source = init.credential === undefined ? options.token : init.credential;
    const credential = typeof source === "function" ? await source() : source;
    if (credential) headers.set("Authorization", `Bearer ${credential}`);
    if (init.body !== undefined) headers.set("Content-Type", "application/json");
    const url = new URL(
      `${base}${path}${search}`,
      base === "" ? (globalThis as { location?: { href: string } }).location?.href : undefined,
    );
    const response = await doFetch(
      new Request(url, {
        method,
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      }),
    );
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const errors = (body as { errors?: ClerkError[] } | null)?.errors;
      throw new GatewayError(
        response.status,
        Array.isArray(errors)
          ? errors
          : [
              {
                code: "unexpected_response",
                message: "Unexpected response",
                long_message: text.slice(0, 200) || response.statusText,
              },
            ],
        response.headers.get("Retry-After"),
      );
    }
    return body as T;
  }

  const sessionPath = (id: string) => `/v1/sessions/${encodeURIComponent(id)}`;

  return {
    /** Frontend-API style, for the signed-in user (a session token). */
    me: {
      activeSessions: () => request<FapiActiveSession[]>("GET", "/v1/me/sessions/active"),
      sessions: () => request<FapiSession[]>("GET", "/v1/me/sessions"),
      revoke: (sessionId: string) =>
        request<RevokeResponse>("POST", `/v1/me/sessions/${encodeURIComponent(sessionId)}/revoke`),
    },
    /** Backend-API style (a service key, or a user on their own sessions). */
    sessions: {
      list: <Q extends ListSessionsQuery>(query: Q = {} as Q) =>
        request<Q extends { paginated: "true" } ? PaginatedSessions : Session[]>("GET", "/v1/sessions", {
          query: query as Query,
        }),
      create: (body: CreateSessionBody) => request<Session>("POST", "/v1/sessions", { body }),
      get: (sessionId: string) => request<Session>("GET", sessionPath(sessionId)),
      /** Authenticated by `body.expired_token`: no Authorization header unless `credential` is given. */
      refresh: (sessionId: string, body: RefreshSessionBody, credential: Credential = null) =>
        request<Token | Cookies>("POST", `${sessionPath(sessionId)}/refresh`, { body, credential }),
      revoke: (sessionId: string) => request<Session>("POST", `${sessionPath(sessionId)}/revoke`),
      createToken: (sessionId: string, body?: TokenBody) =>
        request<Token>("POST", `${sessionPath(sessionId)}/tokens`, body ? { body } : {}),
      createTemplateToken: (sessionId: string, template: string, body?: TokenBody) =>
        request<Token>(
          "POST",
          `${sessionPath(sessionId)}/tokens/${encodeURIComponent(template)}`,
          body ? { body } : {},
        ),
    },
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;
