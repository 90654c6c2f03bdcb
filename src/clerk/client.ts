/**
 * @module
 * The only code that talks to Clerk's Backend API. Every call carries the secret key
 * (which never leaves this module), a timeout, and Clerk's API version; idempotent
 * reads are retried with jittered backoff; every failure becomes an ApiError that
 * says what is known, in Clerk's envelope.
 */
import * as z from "zod/mini";
import { now } from "../core/clock";
import { ApiError, rateLimited, upstreamUnavailable } from "../core/errors";
import { fixedBytes, isolateMap } from "../core/isolate-memory";
import { ClerkErrors, Jwks, PaginatedSessionList, Session, SessionList, SessionRefresh, Token } from "./schemas";

/** What one request spent upstream: feeds the request log, audit lines and Server-Timing. */
export type UpstreamStats = { calls: number; ms: number; traceIds: string[] };
export const newUpstreamStats = (): UpstreamStats => ({ calls: 0, ms: 0, traceIds: [] });

/** What the app's service wiring sets on each request: the Clerk client, counting into the request's metrics. */
export type ClerkClientVariables = { clerk: ClerkClient };

/** The Clerk client of the current request. */
export const clerkClientOf = (c: { var: ClerkClientVariables }): ClerkClient => c.var.clerk;

/**
 * Why a client may call Clerk without the upstream budget's guard: each unguarded client says
 * which calls it makes and what bounds them, so which calls are guarded is visible at every site.
 * - `jwks`: only `GET /v1/jwks`, which Clerk does not rate-limit, at most once per interval per
 *   isolate for an unknown kid (auth/jwks.ts).
 * - `app-middleware`: the app middleware's JWKS fetch (as above) and the status of long-lived
 *   tokens, once per session per SESSION_STATUS_MEMORY_MS; the app's Worker has no gateway budget.
 * - `test`: a test's own client.
 */
export type Unguarded = { unguarded: "jwks" | "app-middleware" | "test" };

export type ClerkClientOptions = {
  /**
   * Called before every upstream attempt; throws to refuse the call (the upstream rate guard,
   * http/rate-limit.ts), or the reason the client needs none.
   */
  guard: (() => Promise<void>) | Unguarded;
  stats?: UpstreamStats;
  fetch?: typeof fetch;
};

/** Idempotent reads: at most this many attempts. */
const MAX_READ_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 1_000;
/** A 429/503 read is retried only when Clerk asks us to wait no longer than this. */
const MAX_INLINE_RETRY_AFTER_S = 1;
/**
 * All attempts of one read share a deadline of this many per-attempt timeouts, so a
 * hanging Clerk costs a caller at most ~2 × UPSTREAM_TIMEOUT_MS, never 3 × plus backoff.
 */
const READ_DEADLINE_TIMEOUTS = 2;
/** An attempt with less time than this left is not worth starting. */
const MIN_ATTEMPT_MS = 25;
/** A Retry-After beyond this is treated as this: a caller is never told to wait longer than a day. */
const MAX_RETRY_AFTER_S = 86_400;
const USER_AGENT = "clerk-session-gateway/0.1";
/**
 * Clerk blocks a rate-limited instance for the `Retry-After` it sends (docs/clerk-contract.md §5).
 * Until then this isolate does not call Clerk at all, so callers get the 429 (or a stale
 * list) at once and the block is not prolonged; a longer Retry-After is believed only up to this.
 */
const MAX_BLOCK_S = 60;
/**
 * Per Clerk origin: until when Clerk asked this isolate to stay away (an entry expires with its
 * block). Also per forwarded endpoint (`METHOD origin/path`, BAPI_PASSTHROUGH): those entries
 * cannot push an origin's block out, since while it holds no forwarded call is made.
 */
const blockedUntil = isolateMap<string, number>("upstreamBlocks", fixedBytes(8));

type ListQuery = {
  client_id?: string | undefined;
  user_id?: string | undefined;
  status?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
};

export type ForwardRequest = {
  method: string;
  /** Starts with `/`, after `/v1`; built from validated segments only. */
  path: string;
  /** `""` or `?…`, as the caller sent it. */
  search: string;
  body: ArrayBuffer | undefined;
  contentType: string | undefined;
  /** The caller's `Clerk-API-Version` (its SDK expects the shapes of the version it asked for). */
  apiVersion: string | undefined;
};

type RequestSpec<T> = {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  schema: z.ZodMiniType<T>;
  idempotent: boolean;
};

const seg = (value: string) => encodeURIComponent(value);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the client needs of the gateway's configuration (config/settings.ts's GatewayConfig has it all). */
export type ClerkApiConfig = {
  /** Clerk's Backend API, `https://api.clerk.com` or CLERK_API_URL. */
  apiUrl: string;
  secretKey: string;
  /** Sent as `Clerk-API-Version` unless a call names its own. */
  apiVersion: string;
  /** Each call's deadline (UPSTREAM_TIMEOUT_MS). */
  upstreamTimeoutMs: number;
};

export class ClerkClient {
  readonly stats: UpstreamStats;
  readonly #config: ClerkApiConfig;
  readonly #beforeCall: (() => Promise<void>) | undefined;
  readonly #fetch: typeof fetch;

  constructor(config: ClerkApiConfig, options: ClerkClientOptions) {
    this.#config = config;
    this.stats = options.stats ?? newUpstreamStats();
    this.#beforeCall = typeof options.guard === "function" ? options.guard : undefined;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  listSessions(query: ListQuery): Promise<Session[]> {
    return this.#request({ method: "GET", path: "/sessions", query, schema: SessionList, idempotent: true });
  }

  listSessionsPaginated(query: ListQuery): Promise<PaginatedSessionList> {
    return this.#request({
      method: "GET",
      path: "/sessions",
      query: { ...query, paginated: true },
      schema: PaginatedSessionList,
      idempotent: true,
    });
  }

  /** Every active session of one user, newest first, in one call (Clerk's maximum page). */
  async listActiveSessions(userId: string): Promise<Session[]> {
    const page = await this.listSessionsPaginated({ user_id: userId, status: "active", limit: 500 });
    return page.data;
  }

  getSession(sessionId: string): Promise<Session> {
    return this.#request({ method: "GET", path: `/sessions/${seg(sessionId)}`, schema: Session, idempotent: true });
  }

  createSession(body: { user_id: string; active_organization_id?: string | undefined }): Promise<Session> {
    return this.#request({ method: "POST", path: "/sessions", body, schema: Session, idempotent: false });
  }

  refreshSession(sessionId: string, body: Record<string, unknown>, query: { suffixed_cookies?: boolean | undefined }) {
    return this.#request({
      method: "POST",
      path: `/sessions/${seg(sessionId)}/refresh`,
      query,
      body,
      schema: SessionRefresh,
      idempotent: false,
    });
  }

  revokeSession(sessionId: string): Promise<Session> {
    return this.#request({
      method: "POST",
      path: `/sessions/${seg(sessionId)}/revoke`,
      schema: Session,
      idempotent: false,
    });
  }

  createSessionToken(sessionId: string, body: { expires_in_seconds?: number | null | undefined } | undefined) {
    return this.#request({
      method: "POST",
      path: `/sessions/${seg(sessionId)}/tokens`,
      body,
      schema: Token,
      idempotent: false,
    });
  }

  createTemplateToken(
    sessionId: string,
    templateName: string,
    body: { expires_in_seconds?: number | null | undefined } | undefined,
  ) {
    return this.#request({
      method: "POST",
      path: `/sessions/${seg(sessionId)}/tokens/${seg(templateName)}`,
      body,
      schema: Token,
      idempotent: false,
    });
  }

  getJwks(): Promise<Jwks> {
    return this.#request({ method: "GET", path: "/jwks", schema: Jwks, idempotent: true });
  }

  /**
   * BAPI_PASSTHROUGH: one Backend-API request forwarded as the service made it (method,
   * validated path, query, body), with the secret key, through the same block and guard as
   * every other call. Clerk's answer comes back as it is (status, body, Retry-After), except
   * what only concerns the gateway: Clerk refusing the secret key becomes a 502 that shows
   * nothing of it. Never retried: the request may be a write.
   */
  async forward(request: ForwardRequest): Promise<Response> {
    const url = new URL(`${this.#config.apiUrl}/v1${request.path}${request.search}`);
    // Clerk also limits endpoints on their own (a user's metadata, invitations: docs/clerk-contract.md
    // §5) and a 429 here may be one of those: it blocks this endpoint, never the whole instance,
    // or one service's bulk job would refuse every user's sign-out. The instance's block still holds.
    const endpoint = `${request.method} ${url.origin}${url.pathname}`;
    const blockedMs = Math.max(blockedUntil.get(url.origin) ?? 0, blockedUntil.get(endpoint) ?? 0) - now();
    if (blockedMs > 0) throw rateLimited(blockedMs / 1000, "Clerk is rate limiting the gateway; retry later");
    await this.#beforeCall?.();
    const headers = this.#headers(request.apiVersion, request.contentType);
    const started = Date.now();
    this.stats.calls++;
    let response: Response;
    let body: ArrayBuffer;
    try {
      response = await this.#fetch(url, {
        method: request.method,
        headers,
        body: request.body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#config.upstreamTimeoutMs),
      });
      body = await response.arrayBuffer();
    } catch (error) {
      throw networkFailure(error, this.#config.upstreamTimeoutMs);
    } finally {
      this.stats.ms += Date.now() - started;
    }
    const contentType = response.headers.get("content-type");
    const traceId = response.headers.get("x-clerk-trace-id") ?? undefined;
    if (traceId) this.stats.traceIds.push(traceId);
    if (response.status === 401 || response.status === 403) {
      const clerk = z.safeParse(ClerkErrors, parseJson(new TextDecoder().decode(body), contentType));
      // A forwarded request carries no credential of the caller's: any 401 is about the gateway's key.
      if (response.status === 401 || keyRejected(response.status, clerk.success ? clerk.data.errors : undefined)) {
        throw gatewayKeyRejected();
      }
    }
    const out = new Headers();
    if (contentType) out.set("Content-Type", contentType);
    const retryAfter = retryAfterSeconds(response);
    if (retryAfter !== undefined) out.set("Retry-After", String(retryAfter));
    if (response.status === 429) {
      const seconds = Math.min(MAX_BLOCK_S, retryAfter ?? 10);
      blockedUntil.set(endpoint, now() + seconds * 1000, seconds * 1000);
    }
    return new Response(request.method === "HEAD" ? null : body, { status: response.status, headers: out });
  }

  /** What every call to Clerk carries: the secret key, the API version (the caller's, when forwarded), and who calls. */
  #headers(apiVersion: string | undefined, contentType: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#config.secretKey}`,
      "Clerk-API-Version": apiVersion ?? this.#config.apiVersion,
      "User-Agent": USER_AGENT,
      Accept: "application/json",
    };
    if (contentType) headers["Content-Type"] = contentType;
    return headers;
  }

  async #request<T>(spec: RequestSpec<T>): Promise<T> {
    const url = new URL(`${this.#config.apiUrl}/v1${spec.path}`);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    // Clerk's SDK sends no body when there are no body params (revoke): so do we.
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers = this.#headers(undefined, body === undefined ? undefined : "application/json");

    const attempts = spec.idempotent ? MAX_READ_ATTEMPTS : 1;
    const timeoutMs = this.#config.upstreamTimeoutMs;
    const deadline = Date.now() + timeoutMs * (spec.idempotent ? READ_DEADLINE_TIMEOUTS : 1);
    let lastError: ApiError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        const wait = backoff(attempt, lastError);
        // A retry that could not finish before the deadline only makes the caller wait longer for the same answer.
        if (Date.now() + wait + MIN_ATTEMPT_MS > deadline) break;
        const started = Date.now();
        await sleep(wait);
        // Waiting to retry is time spent because of Clerk: it counts as upstream time, not cache time.
        this.stats.ms += Date.now() - started;
      }
      const attemptTimeout = Math.min(timeoutMs, Math.max(MIN_ATTEMPT_MS, deadline - Date.now()));
      try {
        return await this.#attempt(url, { method: spec.method, headers, body }, spec.schema, attemptTimeout);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        lastError = error;
        if (!spec.idempotent) throw describeWriteFailure(error);
        if (!isRetryable(error)) throw error;
      }
    }
    throw lastError ?? upstreamUnavailable(502, "Clerk could not be reached");
  }

  async #attempt<T>(url: URL, init: RequestInit, schema: z.ZodMiniType<T>, timeoutMs: number): Promise<T> {
    const blockedMs = (blockedUntil.get(url.origin) ?? 0) - now();
    if (blockedMs > 0) {
      throw rateLimited(blockedMs / 1000, "Clerk is rate limiting the gateway; retry later");
    }
    await this.#beforeCall?.();
    const started = Date.now();
    this.stats.calls++;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      text = await response.text();
    } catch (error) {
      throw networkFailure(error, this.#config.upstreamTimeoutMs);
    } finally {
      this.stats.ms += Date.now() - started;
    }

    const traceId = response.headers.get("x-clerk-trace-id") ?? response.headers.get("cf-ray") ?? undefined;
    const json = parseJson(text, response.headers.get("content-type"));
    const errorTrace = json !== undefined ? readTraceId(json) : undefined;
    if (traceId ?? errorTrace) this.stats.traceIds.push((errorTrace ?? traceId) as string);

    if (response.ok) {
      const parsed = json === undefined ? undefined : z.safeParse(schema, json);
      if (!parsed?.success) throw upstreamUnavailable(502, "Clerk returned a response the gateway could not read");
      return parsed.data;
    }
    const error = mapUpstreamError(response, json, errorTrace ?? traceId);
    if (response.status === 429) {
      const seconds = Math.min(MAX_BLOCK_S, Number(error.headers["Retry-After"]) || 0);
      blockedUntil.set(url.origin, now() + seconds * 1000, seconds * 1000);
    }
    throw error;
  }
}

/**
 * A fetch to Clerk that threw: its timeout (504) or anything else, such as a dropped
 * connection, which rejects fetch with a plain Error (502). Either way the outcome is unknown.
 */
function networkFailure(error: unknown, timeoutMs: number): ApiError {
  const timedOut = error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError");
  return timedOut
    ? upstreamUnavailable(
        504,
        `Clerk did not answer in time (UPSTREAM_TIMEOUT_MS is ${timeoutMs}); the outcome of this request is unknown`,
      )
    : upstreamUnavailable(502, "The connection to Clerk failed; the outcome of this request is unknown");
}

function parseJson(text: string, contentType: string | null): unknown {
  if (!contentType?.toLowerCase().includes("json")) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readTraceId(json: unknown): string | undefined {
  if (json && typeof json === "object" && "clerk_trace_id" in json) {
    const value = (json as { clerk_trace_id: unknown }).clerk_trace_id;
    return typeof value === "string" ? value : undefined;
  }
  return undefined;
}

function retryAfterSeconds(response: Response): number | undefined {
  const raw = response.headers.get("retry-after")?.trim();
  if (!raw) return undefined;
  // Delta-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored rather than passed on as NaN.
  const seconds = /^\d+$/.test(raw) ? Number(raw) : Math.ceil((Date.parse(raw) - Date.now()) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(0, seconds));
}

/** Turns a non-2xx answer from Clerk into what the gateway's caller should see. */
/**
 * Whether Clerk refused the gateway's own secret key: an answer naming `clerk_key_invalid`, or a
 * 401 or 403 Clerk did not explain. The operator's fault, not the caller's. (A 401 Clerk explains,
 * such as a refresh's rejected token, is about the request and passes through.)
 */
function keyRejected(status: number, errors: ReadonlyArray<{ code: string }> | undefined): boolean {
  if (errors?.some((e) => e.code === "clerk_key_invalid")) return true;
  return (status === 401 || status === 403) && errors === undefined;
}

/** A final 502 (never retried) whose message says nothing about the key. */
function gatewayKeyRejected(): ApiError {
  const error = upstreamUnavailable(
    502,
    "Clerk rejected the gateway's credentials; the operator has to fix its configuration",
  );
  return new ApiError(error.status, error.errors, { headers: error.headers, final: true });
}

function mapUpstreamError(response: Response, json: unknown, traceId: string | undefined): ApiError {
  const status = response.status;
  const clerk = z.safeParse(ClerkErrors, json);

  if (keyRejected(status, clerk.success ? clerk.data.errors : undefined)) return gatewayKeyRejected();
  if (status === 429) {
    return withTrace(
      rateLimited(retryAfterSeconds(response) ?? 10, "Clerk is rate limiting the gateway; retry later"),
      traceId,
    );
  }
  if (status >= 500 || !clerk.success) {
    const retryAfter = retryAfterSeconds(response);
    return withTrace(
      status === 503
        ? upstreamUnavailable(503, "Clerk is temporarily unavailable", retryAfter)
        : upstreamUnavailable(502, `Clerk answered with an error (HTTP ${status})`),
      traceId,
    );
  }
  // Clerk's own 4xx errors pass through, re-built from the fields Clerk defines.
  const errors = clerk.data.errors.map((e) => ({
    code: e.code,
    message: e.message,
    long_message: e.long_message ?? e.message,
    ...(e.meta ? { meta: e.meta } : {}),
  }));
  return new ApiError(status, errors, traceId ? { traceId } : {});
}

function withTrace(error: ApiError, traceId: string | undefined): ApiError {
  return traceId ? new ApiError(error.status, error.errors, { headers: error.headers, traceId }) : error;
}

function isRetryable(error: ApiError): boolean {
  if (error.final) return false;
  if (error.status === 429 || error.status === 503) {
    const retryAfter = Number(error.headers["Retry-After"] ?? "0");
    return Number.isFinite(retryAfter) && retryAfter <= MAX_INLINE_RETRY_AFTER_S;
  }
  return error.status === 502 || error.status === 504;
}

/** Full jitter (AWS Architecture Blog), or Clerk's Retry-After when it gave one. */
function backoff(attempt: number, previous: ApiError | undefined): number {
  const retryAfter = Number(previous?.headers["Retry-After"]);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.random() * ceiling;
}

/**
 * A write that failed after it may have reached Clerk (a timeout, a dropped connection, a
 * 5xx, an unreadable success) has an unknown outcome: the caller is told so, and told how
 * to find out, instead of being told that nothing happened. A rejected secret key is known
 * not to have been applied, and Clerk's 4xx answers are definite.
 */
function describeWriteFailure(error: ApiError): ApiError {
  if (error.status < 500 || error.final || error.code !== "upstream_unavailable") return error;
  const errors = error.errors.map((e) => ({
    ...e,
    long_message: e.long_message.includes("outcome")
      ? e.long_message
      : `${e.long_message}; the outcome of this write is unknown, read the session before retrying`,
    meta: { ...e.meta, outcome: "unknown" },
  }));
  return new ApiError(error.status, errors, {
    headers: error.headers,
    ...(error.traceId ? { traceId: error.traceId } : {}),
  });
}
