/**
 * @module
 * One structured JSON log line per request, audit lines for revokes and token mints,
 * and `Server-Timing`. Nothing here ever sees a token or a key: only ids, kinds,
 * statuses and durations are recorded.
 */
import { createMiddleware } from "hono/factory";
import type { RequestIdVariables } from "hono/request-id";
import type { AuthVariables } from "../auth/principal";
import { newUpstreamStats, type UpstreamStats } from "../clerk/client";
import { emitText, log } from "../core/log";
import { memoryLookupTotalsJson } from "../core/memory-stats";
import { noteRegion } from "../revocation/recent";

export type RequestMetrics = {
  route: string;
  startedAt: number;
  verifyMs: number;
  cacheMs: number;
  cache?: "HIT" | "MISS" | "STALE";
  upstream: UpstreamStats;
  authFailure?: string;
  errorCode?: string;
  /** Set when the user's SessionDirectory object could not be reached (src/revocation/revocations.ts). */
  directory?: "fallback" | "refused";
  /** Set when the recent revocations could not be read in time and the per-user check answered. */
  recent?: "unavailable";
  /** The setting a misconfiguration names: the operator's first clue, logged without its value. */
  setting?: string;
  /** The caller's own `X-Request-Id`, cleaned (clientRequestId): logged beside the gateway's, never instead of it. */
  clientRequestId?: string;
};

export type AuditEvent = {
  action: "session.revoke" | "session.token" | "session.template_token" | "session.create" | "session.refresh";
  session_id: string;
  template?: string;
  outcome: "ok" | "error";
  status: number;
  error_code?: string;
};

/** What observe() sets on each request. */
export type ObservabilityVariables = { metrics: RequestMetrics };

/** The current request's metrics (set by observe(), first in the chain). */
export const requestMetrics = (c: { var: ObservabilityVariables }): RequestMetrics => c.var.metrics;

/** What the request log reads from the context: set by other middleware, absent when it did not run. */
type LoggedVariables = Partial<AuthVariables> & Partial<ObservabilityVariables> & Partial<RequestIdVariables>;

/** A caller's request id is kept for correlation only if it is short, printable and unambiguous. */
const CLIENT_REQUEST_ID = /^[\w.:@/+=-]+$/;
const MAX_CLIENT_REQUEST_ID = 64;

export function clientRequestId(header: string | undefined): string | undefined {
  const value = header?.trim().slice(0, MAX_CLIENT_REQUEST_ID);
  return value && CLIENT_REQUEST_ID.test(value) ? value : undefined;
}

/**
 * The request id in every log and audit line (and the `X-Request-Id` answered) is the
 * gateway's own: a caller who could choose it could make its requests pass for another's in
 * an audit trail. A caller's `X-Request-Id` is still logged, as `client_request_id`.
 */
export const gatewayRequestId = () =>
  createMiddleware<{ Variables: RequestIdVariables }>(async (c, next) => {
    const id = crypto.randomUUID();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
  });

/** Seconds-precision wall time is all workerd exposes to a request; durations come from Date.now(). */
export const observe = () =>
  createMiddleware<{ Variables: ObservabilityVariables & LoggedVariables }>(async (c, next) => {
    const metrics: RequestMetrics = {
      route: "",
      startedAt: Date.now(),
      verifyMs: 0,
      cacheMs: 0,
      upstream: newUpstreamStats(),
    };
    noteRegion(c.req.raw.cf);
    const clientId = clientRequestId(c.req.header("X-Request-Id"));
    if (clientId) metrics.clientRequestId = clientId;
    c.set("metrics", metrics);
    try {
      await next();
    } finally {
      const totalMs = Date.now() - metrics.startedAt;
      c.res.headers.set(
        "Server-Timing",
        `verify;dur=${metrics.verifyMs}, cache;dur=${metrics.cacheMs}, upstream;dur=${metrics.upstream.ms}, total;dur=${totalMs}`,
      );
      emitText(
        "info",
        requestLine(c.var, c.req.method, c.req.routePath || metrics.route, c.res.status, metrics, totalMs),
      );
    }
  });

/**
 * The request log line, written straight as JSON text: it is written for every request, and on
 * a warm read it was the largest single cost of the gateway's own code (an object built field
 * by field, then serialised). Only string values go through JSON.stringify (ids, route, method:
 * escaped as any JSON); numbers and the gateway's own enums are written as they are. Optional
 * fields are absent, not null, when they do not apply; the fields and their order are the same
 * as an object serialised would give.
 */
export function requestLine(
  vars: LoggedVariables,
  method: string,
  route: string,
  status: number,
  metrics: RequestMetrics,
  totalMs: number,
): string {
  const q = JSON.stringify;
  let line = `{"level":"info","time":"${new Date().toISOString()}","msg":"request"`;
  if (vars.requestId !== undefined) line += `,"request_id":${q(vars.requestId)}`;
  if (metrics.clientRequestId) line += `,"client_request_id":${q(metrics.clientRequestId)}`;
  line += `,"method":${q(method)},"route":${q(route)},"status":${status}`;
  const principal = vars.principal;
  line += `,"principal":"${principal?.kind ?? "anonymous"}"`;
  if (principal?.kind === "user") {
    line += `,"user_id":${q(principal.userId)},"session_id":${q(principal.sessionId)}`;
  } else if (principal?.kind === "service") {
    line += `,"service_key":${principal.keyIndex}`;
  }
  if (metrics.cache) line += `,"cache":"${metrics.cache}"`;
  if (metrics.authFailure) line += `,"auth_failure":${q(metrics.authFailure)}`;
  if (metrics.directory) line += `,"directory":"${metrics.directory}"`;
  if (metrics.recent) line += `,"recent":"${metrics.recent}"`;
  if (metrics.errorCode) line += `,"error_code":${q(metrics.errorCode)}`;
  if (metrics.setting) line += `,"setting":${q(metrics.setting)}`;
  line += `,"upstream_calls":${metrics.upstream.calls}`;
  // Isolate totals, not this request's: the memory layers' hit ratio over any window is a difference of two lines.
  line += memoryLookupTotalsJson();
  return `${line},"upstream_ms":${metrics.upstream.ms},"duration_ms":${totalMs}}`;
}

type AuditContext = { var: LoggedVariables };

export function audit(c: AuditContext, event: AuditEvent) {
  const { principal, metrics } = c.var;
  log("info", {
    msg: "audit",
    request_id: c.var.requestId,
    ...(metrics?.clientRequestId ? { client_request_id: metrics.clientRequestId } : {}),
    actor:
      principal?.kind === "user"
        ? { kind: "user", user_id: principal.userId, session_id: principal.sessionId }
        : principal?.kind === "service"
          ? { kind: "service", service_key: principal.keyIndex }
          : { kind: "anonymous" },
    ...event,
    clerk_trace_id: metrics?.upstream.traceIds.at(-1) ?? null,
  });
}

/** Runs a write and records its audit line, whatever the outcome. */
export async function withAudit<T>(
  c: AuditContext,
  event: Pick<AuditEvent, "action" | "session_id" | "template">,
  write: () => Promise<T>,
): Promise<T> {
  try {
    const result = await write();
    const sessionId = event.session_id === "(new)" ? ((result as { id?: string }).id ?? "(new)") : event.session_id;
    audit(c, { ...event, session_id: sessionId, outcome: "ok", status: 200 });
    return result;
  } catch (error) {
    const status = (error as { status?: number }).status ?? 500;
    const code = (error as { code?: string }).code;
    audit(c, { ...event, outcome: "error", status, ...(code ? { error_code: code } : {}) });
    throw error;
  }
}
