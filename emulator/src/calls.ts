/** The log of every `/v1/*` request received, in order: lets tests count upstream calls. */

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
