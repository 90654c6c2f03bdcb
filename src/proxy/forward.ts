import { ASSERTION_HEADER } from "../auth/origin-assertion";
import type { UserPrincipal } from "../auth/principal";
import type { ProxyConfig } from "../config/settings";
import { ApiError } from "../core/errors";
import { declaredLength, incompleteBody } from "../http/body-limit";
import { type GuardedBody, guardBody } from "./body-guard";

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
 * internal `x-clerk-auth-*` headers that must never come from a client either. So does the
 * `X-Gateway-` family (the shared secret, the signed assertion, and whatever comes next).
 */
export function isReservedHeader(name: string): boolean {
  const normalized = name.toLowerCase().replaceAll("_", "-");
  return normalized.startsWith("x-clerk-") || normalized.startsWith("x-gateway-");
}

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): they describe the caller's connection to the gateway,
 * not a request to the origin, and a proxy must not pass them on. `Connection` also names
 * more of them: a caller sending `Connection: X-Gateway-Secret, X-Clerk-User-Id` would have
 * any compliant hop between the gateway and the origin (a load balancer, nginx) delete the
 * gateway's own headers, so the origin would see a request stripped of what the gateway
 * asserted. `Upgrade` is kept: the runtime uses it to carry WebSocket upgrades end to end.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer"]);

/** The header names a request's `Connection` header nominates as hop-by-hop (lower case). */
export function connectionNominated(connection: string | null): Set<string> {
  const names = new Set<string>();
  for (const token of (connection ?? "").split(",")) {
    const name = token.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names;
}

/**
 * Headers that say who the client is, set by the gateway alone. An origin that trusts the
 * gateway (ORIGIN_SHARED_SECRET) trusts its forwarding headers too, so a caller must not be
 * able to choose the address the origin rate-limits, allow-lists or logs.
 */
const CLIENT_ADDRESS_HEADERS = new Set(["x-forwarded-for", "forwarded", "x-real-ip", "true-client-ip"]);

/**
 * Headers some servers and frameworks take over the request line: the path (IIS's URL Rewrite,
 * Symfony and Laminas read `X-Original-URL` / `X-Rewrite-URL`; others `X-Forwarded-Uri`,
 * `-Path`, `-Prefix`), the method (Express's method-override, Rails, ASP.NET), the scheme,
 * host or port. The gateway decided on the request line it saw (public or not, which rule
 * applies, a safe method or a write), so an origin must never act on another one: none of
 * them is passed on, on any path. `X-Forwarded-Host` and `-Proto` are set by the gateway below.
 */
const REQUEST_LINE_OVERRIDES = new Set([
  "x-original-url",
  "x-rewrite-url",
  "x-original-uri",
  "x-original-path",
  "x-override-url",
  "x-forwarded-uri",
  "x-forwarded-path",
  "x-forwarded-prefix",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-scheme",
  "x-forwarded-port",
  "x-forwarded-server",
  "x-forwarded-ssl",
  "x-url-scheme",
  "x-host",
  "front-end-https",
]);

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
  assertion?: string,
): { target: string; init: RequestInit; body: GuardedBody | null } {
  const headers = new Headers();
  const nominated = connectionNominated(request.headers.get("connection"));
  for (const [name, value] of request.headers) {
    // Framing is the runtime's: it follows from the body sent on (fixed length or chunked).
    if (name === "host" || name === "content-length" || name === "transfer-encoding" || isReservedHeader(name)) {
      continue;
    }
    // `TE: trailers` alone is end to end in practice (gRPC servers require it, as HTTP/2 allows).
    if (name === "te" && value.trim().toLowerCase() === "trailers" && !nominated.has("te")) {
      headers.append(name, value);
      continue;
    }
    if (HOP_BY_HOP.has(name)) continue;
    // CGI-style servers read `X_Forwarded_For` as `X-Forwarded-For` (see isReservedHeader).
    const dashed = name.replaceAll("_", "-");
    if (CLIENT_ADDRESS_HEADERS.has(dashed) || REQUEST_LINE_OVERRIDES.has(dashed)) continue;
    // Upgrade stays even when nominated (`Connection: upgrade`): the runtime reads it for WebSockets.
    if (nominated.has(name) && name !== "upgrade") continue;
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
  // Cloudflare sets CF-Connecting-IP on every request and a client cannot; the subrequest to the
  // origin does not carry it, so the gateway says it, replacing whatever the caller claimed.
  const clientIp = request.headers.get("CF-Connecting-IP")?.trim();
  if (clientIp) {
    headers.set("X-Forwarded-For", clientIp);
    headers.set("X-Real-IP", clientIp);
  }
  if (principal) {
    headers.set(IDENTITY_HEADERS.userId, principal.userId);
    headers.set(IDENTITY_HEADERS.sessionId, principal.sessionId);
    const orgId = orgIdOf(principal);
    if (orgId) headers.set(IDENTITY_HEADERS.orgId, orgId);
  }
  if (config.sharedSecret) headers.set(SECRET_HEADER, config.sharedSecret);
  if (assertion) headers.set(ASSERTION_HEADER, assertion);
  const body =
    request.method !== "GET" && request.method !== "HEAD" && request.body !== null
      ? guardBody(request.body, declaredLength(request.headers))
      : null;
  return {
    target: originTarget(config, url),
    init: {
      method: request.method,
      headers,
      body: body?.stream ?? null,
      // A redirect is the origin's answer to the caller, not something for the gateway to follow.
      redirect: "manual",
    },
    body,
  };
}

/** The URL the origin is sent for a request to `url`: ORIGIN_URL (with its path) + the caller's path and query. */
export const originTarget = (config: ProxyConfig, url: URL) => `${config.originUrl}${url.pathname}${url.search}`;

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
  body: Pick<GuardedBody, "clientFailure" | "signal"> | null = null,
  fetcher: typeof fetch = fetch,
): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const signal = body ? AbortSignal.any([controller.signal, body.signal]) : controller.signal;
    const response = await fetcher(target, { ...init, signal });
    // The client's upload broke before the origin answered: whatever the origin made of the
    // part it got, its answer is to a body the client never finished sending.
    const failure = body?.clientFailure();
    if (failure) {
      response.body?.cancel().catch(() => {});
      throw incompleteBody(failure);
    }
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
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // The client's upload broke first (and the stream sent on with it): the client's doing,
    // not the origin's. A 400 like the gateway's own routes give, and no error-level log.
    const failure = body?.clientFailure();
    if (failure) throw incompleteBody(failure);
    // Nothing about the failure (the origin's address, the runtime's message) goes to the caller.
    throw timedOut
      ? originError(504, `The origin did not answer within ORIGIN_TIMEOUT_MS (${timeoutMs} ms)`)
      : originError(502, "The origin could not be reached");
  } finally {
    clearTimeout(timer);
  }
}
