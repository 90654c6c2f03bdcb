/**
 * Fault injection for `/v1/*`: make Clerk fail in the ways a gateway must survive.
 *
 * A fault applies BEFORE the request touches any state (a faulted revoke revokes nothing),
 * unless `after: true`, in which case the request runs and commits first and only its
 * response is replaced ("Clerk did it, but the answer was lost").
 */

import { sleep } from "./context";
import { ClerkApiError, errorResponse } from "./errors";
import { randomId } from "./ids";

export const FAULT_MODES = [
  "500",
  "502",
  "503",
  "429",
  "hang",
  "slow",
  "malformed_json",
  "wrong_content_type",
  "drop",
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultSpec {
  /** HTTP method to match; any when absent. */
  method?: string;
  /** Exact path, `*` for one segment (`/v1/sessions/*\/revoke`), `**` as the last segment for any rest. */
  path: string;
  mode: FaultMode;
  /** `Retry-After` of a 429 (default 10). */
  retry_after_seconds?: number;
  /** Delay of `slow` (default 2000) and of `hang` before the connection drops (default 60000). */
  delay_ms?: number;
  /** How many matching requests to fault; unlimited when absent. */
  times?: number;
  /** Apply after the request has committed its state change. */
  after?: boolean;
  /** Which API the rule applies to: the Backend API (default) or the Frontend API (matched on its `/v1/…` path). */
  api?: "bapi" | "fapi";
}

export interface FaultRule extends FaultSpec {
  id: string;
  /** Matching requests faulted so far. */
  hits: number;
}

/** Thrown to make the emulator's fetch handler fail, so the caller sees a network error. */
export class DropConnection extends Error {
  constructor() {
    super("clerk-emulator: connection dropped (fault injection)");
    this.name = "DropConnection";
  }
}

const DEFAULT_RETRY_AFTER_SECONDS = 10;
const DEFAULT_SLOW_MS = 2_000;
const DEFAULT_HANG_MS = 60_000;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

let rules: FaultRule[] = [];

function invalid(param: string, longMessage: string): ClerkApiError {
  return new ClerkApiError(422, [
    { code: "form_param_invalid", message: "is invalid", long_message: longMessage, meta: { param_name: param } },
  ]);
}

function optionalNonNegativeInteger(body: Record<string, unknown>, name: string, min = 0): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw invalid(name, `${name} must be an integer >= ${min}.`);
  }
  return v;
}

/** Validates a `POST /__emulator/faults` body. */
export function parseFaultSpec(body: unknown): FaultSpec {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalid("body", "The body must be a JSON object.");
  }
  const b = body as Record<string, unknown>;
  const allowed = ["method", "path", "mode", "retry_after_seconds", "delay_ms", "times", "after", "api"];
  for (const key of Object.keys(b)) if (!allowed.includes(key)) throw invalid(key, `${key} is not a fault option.`);
  if (typeof b.path !== "string" || !b.path.startsWith("/"))
    throw invalid("path", "path must be a string starting with /.");
  if (typeof b.mode !== "string" || !(FAULT_MODES as readonly string[]).includes(b.mode)) {
    throw invalid("mode", `mode must be one of ${FAULT_MODES.join(", ")}.`);
  }
  const spec: FaultSpec = { path: b.path, mode: b.mode as FaultMode };
  if (b.method !== undefined && b.method !== null) {
    if (typeof b.method !== "string" || !METHODS.includes(b.method.toUpperCase())) {
      throw invalid("method", `method must be one of ${METHODS.join(", ")}.`);
    }
    spec.method = b.method.toUpperCase();
  }
  const retry = optionalNonNegativeInteger(b, "retry_after_seconds");
  if (retry !== undefined) spec.retry_after_seconds = retry;
  const delay = optionalNonNegativeInteger(b, "delay_ms");
  if (delay !== undefined) spec.delay_ms = delay;
  const times = optionalNonNegativeInteger(b, "times", 1);
  if (times !== undefined) spec.times = times;
  if (b.after !== undefined && b.after !== null) {
    if (typeof b.after !== "boolean") throw invalid("after", "after must be a boolean.");
    spec.after = b.after;
  }
  if (b.api !== undefined && b.api !== null) {
    if (b.api !== "bapi" && b.api !== "fapi") throw invalid("api", "api must be bapi or fapi.");
    spec.api = b.api;
  }
  return spec;
}

/** `*` matches exactly one path segment; a final `**` matches any remainder (including none). */
export function pathMatches(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const s = path.split("/");
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    if (seg === "**" && i === p.length - 1) return true;
    if (i >= s.length) return false;
    if (seg !== "*" && seg !== s[i]) return false;
    if (seg === "*" && s[i] === "") return false;
  }
  return p.length === s.length;
}

export function addFault(spec: FaultSpec): FaultRule {
  const rule: FaultRule = { ...spec, id: randomId("fault"), hits: 0 };
  rules.push(rule);
  return rule;
}

export function listFaults(): FaultRule[] {
  return rules;
}

export function clearFaults(): void {
  rules = [];
}

/** The first rule matching this request that still has uses left; consumes one use. */
export function takeFault(method: string, path: string, api: "bapi" | "fapi" = "bapi"): FaultRule | null {
  for (const rule of rules) {
    if ((rule.api ?? "bapi") !== api) continue;
    if (rule.method && rule.method !== method.toUpperCase()) continue;
    if (!pathMatches(rule.path, path)) continue;
    if (rule.times !== undefined && rule.hits >= rule.times) continue;
    rule.hits += 1;
    return rule;
  }
  return null;
}

/** The delay a `slow` rule adds. */
export function slowDelay(rule: FaultRule): number {
  return rule.delay_ms ?? DEFAULT_SLOW_MS;
}

/** The response a (non-`slow`) fault produces; `drop` and `hang` throw `DropConnection` instead. */
export async function faultResponse(rule: FaultRule, traceId: string): Promise<Response> {
  switch (rule.mode) {
    case "500":
      return errorResponse(
        500,
        [
          {
            code: "internal_clerk_error",
            message: "Oops, an unexpected error occurred",
            long_message:
              "There was an internal error on our servers. We've been notified and are working on fixing it.",
          },
        ],
        traceId,
      );
    case "502":
      return errorResponse(
        502,
        [
          {
            code: "bad_gateway",
            message: "Bad gateway",
            long_message: "The upstream service returned an invalid response.",
          },
        ],
        traceId,
      );
    case "503":
      return errorResponse(
        503,
        [
          {
            code: "service_unavailable",
            message: "Service unavailable",
            long_message: "The service is temporarily unavailable. Please try again later.",
          },
        ],
        traceId,
      );
    case "429": {
      const retryAfter = rule.retry_after_seconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      return errorResponse(
        429,
        [
          {
            code: "rate_limit_exceeded",
            message: "Too many requests",
            long_message: `Too many requests, retry later. Retry after ${retryAfter} seconds.`,
          },
        ],
        traceId,
        { "Retry-After": String(retryAfter) },
      );
    }
    case "malformed_json":
      return new Response('{"object":"sess', { status: 200, headers: { "content-type": "application/json" } });
    case "wrong_content_type":
      return new Response("<html>Bad gateway</html>", { status: 200, headers: { "content-type": "text/html" } });
    case "hang":
      await sleep(rule.delay_ms ?? DEFAULT_HANG_MS);
      throw new DropConnection();
    case "drop":
      throw new DropConnection();
    case "slow":
      throw new Error("slow faults delay the real response; they have no response of their own");
  }
}
