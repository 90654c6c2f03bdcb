import type { UserPrincipal } from "../auth/principal";
import type { ProxyConfig } from "../env";
import { ApiError } from "../errors";

/** Identity headers the gateway sets on a forwarded request. */
export const IDENTITY_HEADERS = {
  userId: "X-Clerk-User-Id",
  sessionId: "X-Clerk-Session-Id",
  orgId: "X-Clerk-Org-Id",
} as const;
/** Carries ORIGIN_SHARED_SECRET, so the origin can tell a request came through the gateway. */
export const SECRET_HEADER = "X-Gateway-Secret";

/**
 * Whether an incoming header must not reach the origin as the caller sent it: anything an
 * origin could take for gateway-asserted identity. Header names are case-insensitive, and
 * many servers (CGI-style environments: Rack, WSGI, PHP; nginx with underscores allowed)
 * also read `X_Clerk_User_Id` as `X-Clerk-User-Id`, so underscores count as dashes. The
 * whole `X-Clerk-` family goes, not only the three names set here: Clerk's own SDKs use
 * internal `x-clerk-auth-*` headers that must never come from a client either.
 */
export function isReservedHeader(name: string): boolean {
  const normalized = name.toLowerCase().replaceAll("_", "-");
  return normalized.startsWith("x-clerk-") || normalized === SECRET_HEADER.toLowerCase();
}

/**
 * The Cookie header without Clerk's session cookies (`__session` and the instance-suffixed
 * `__session_<suffix>`), for ORIGIN_FORWARD_CREDENTIALS=false; null when nothing is left.
 */
export function withoutSessionCookies(cookie: string | null): string | null {
  if (!cookie) return null;
  const kept = cookie
    .split(";")
    .map((part) => part.trim())
    .filter((part) => {
      const name = part.split("=")[0]?.trim() ?? "";
      return part.length > 0 && name !== "__session" && !name.startsWith("__session_");
    });
  return kept.length > 0 ? kept.join("; ") : null;
}

/** The organization in the token: `o.id` in v2 session tokens, `org_id` in v1. */
export function orgIdOf(principal: UserPrincipal): string | undefined {
  const o = principal.claims.o;
  if (o && typeof o === "object" && typeof (o as { id?: unknown }).id === "string") return (o as { id: string }).id;
  return typeof principal.claims.org_id === "string" ? principal.claims.org_id : undefined;
}

/**
 * The request the origin receives: the caller's method, path, query, headers and body
 * (streamed, never buffered), minus any caller-supplied identity, plus the gateway's.
 * `Authorization` and the `__session` cookies are kept by default, so an origin that
 * verifies Clerk tokens itself keeps working behind the gateway; ORIGIN_FORWARD_CREDENTIALS
 * =false removes them for origins that trust the gateway alone (a token the origin never
 * sees cannot leak from its logs).
 */
export function originRequestInit(
  request: Request,
  url: URL,
  config: ProxyConfig,
  principal: UserPrincipal | undefined,
): { target: string; init: RequestInit } {
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (name === "host" || isReservedHeader(name)) continue;
    headers.append(name, value);
  }
  if (!config.forwardCredentials) {
    headers.delete("Authorization");
    const cookies = withoutSessionCookies(headers.get("Cookie"));
    if (cookies) headers.set("Cookie", cookies);
    else headers.delete("Cookie");
  }
  // The origin sees its own host in Host; these say what the caller asked for.
  headers.set("X-Forwarded-Host", url.host);
  headers.set("X-Forwarded-Proto", url.protocol.replace(/:$/, ""));
  if (principal) {
    headers.set(IDENTITY_HEADERS.userId, principal.userId);
    headers.set(IDENTITY_HEADERS.sessionId, principal.sessionId);
    const orgId = orgIdOf(principal);
    if (orgId) headers.set(IDENTITY_HEADERS.orgId, orgId);
  }
  if (config.sharedSecret) headers.set(SECRET_HEADER, config.sharedSecret);
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
  return {
    target: `${config.originUrl}${url.pathname}${url.search}`,
    init: {
      method: request.method,
      headers,
      body: hasBody ? request.body : null,
      // A redirect is the origin's answer to the caller, not something for the gateway to follow.
      redirect: "manual",
    },
  };
}

/** Whether an `Accept-Encoding` value admits `encoding` (RFC 9110 §12.5.3; q=0 refuses). */
export function accepts(acceptEncoding: string | null, encoding: string): boolean {
  if (!acceptEncoding) return false;
  const wanted = encoding.trim().toLowerCase();
  let wildcard = false;
  for (const part of acceptEncoding.split(",")) {
    const [token = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const refused = q !== undefined && Number(q.slice(2)) === 0;
    if (token.trim() === wanted) return !refused;
    if (token.trim() === "*") wildcard = !refused;
  }
  return wildcard;
}

const originError = (status: 502 | 504, longMessage: string) =>
  new ApiError(status, [{ code: "upstream_unavailable", message: "Origin unavailable", long_message: longMessage }]);

/**
 * Sends the request and hands back the origin's response as it came (status, headers,
 * streamed body; errors included). The timeout covers the wait for the response headers
 * only: once the origin answers, a long download streams for as long as it takes.
 */
export async function sendToOrigin(
  target: string,
  init: RequestInit,
  timeoutMs: number,
  acceptEncoding: string | null,
  fetcher: typeof fetch = fetch,
): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const response = await fetcher(target, { ...init, signal: controller.signal });
    // Headers of a fetched response are immutable; a copy lets the runtime stream it on unchanged.
    const copy = new Response(response.body, response);
    // The runtime asks origins for compressed bodies whatever the caller accepts, hands the body
    // over decoded, and re-encodes it by Content-Encoding on the way out. A caller that did not
    // accept that encoding gets the decoded body instead of bytes it cannot read.
    const encoding = copy.headers.get("Content-Encoding");
    if (encoding && !accepts(acceptEncoding, encoding)) {
      copy.headers.delete("Content-Encoding");
      copy.headers.delete("Content-Length");
    }
    return copy;
  } catch {
    // Nothing about the failure (the origin's address, the runtime's message) goes to the caller.
    throw timedOut
      ? originError(504, `The origin did not answer within ORIGIN_TIMEOUT_MS (${timeoutMs} ms)`)
      : originError(502, "The origin could not be reached");
  } finally {
    clearTimeout(timer);
  }
}
