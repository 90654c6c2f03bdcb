/**
 * The log of every Backend API and Frontend API request received, in order: lets tests count
 * upstream calls (`api` tells the two apart) and assert what Clerk saw.
 */

export interface CallRecord {
  method: string;
  /** Host the caller addressed (`api.clerk.com` in tests; the outbound service preserves it). */
  host: string;
  path: string;
  /** The raw query string including `?`, or "". */
  search: string;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** Whether the request carried the right secret key (the key itself is never recorded). */
  auth_ok: boolean;
  /** `Clerk-API-Version` header, if sent. */
  api_version: string | null;
  user_agent: string | null;
  content_type: string | null;
  /** Raw request body, or null when empty. */
  body: string | null;
  /** The fault mode applied to this request, if any. */
  fault: string | null;
  /** `bapi` (secret-key API) or `fapi` (the browser's Frontend API, by host or `/__fapi`). */
  api: "bapi" | "fapi";
  /** FAPI: the `Clerk-Proxy-Url` header a proxy sent, else null. */
  proxy_url: string | null;
  /** FAPI: whether `Clerk-Secret-Key` was sent and right (`ok`/`invalid`), null when absent; never the key. */
  proxy_secret_key: "ok" | "invalid" | null;
  /** FAPI: the `Origin` header. */
  origin: string | null;
  /** FAPI: names (never values) of the cookies sent. */
  cookies: string[] | null;
  /** FAPI: `X-Forwarded-For`, as a proxy sets it. */
  forwarded_for: string | null;
}

let log: CallRecord[] = [];

export function recordCall(call: CallRecord): CallRecord {
  log.push(call);
  return call;
}

export function calls(): CallRecord[] {
  return log;
}

export function clearCalls(): void {
  log = [];
}
