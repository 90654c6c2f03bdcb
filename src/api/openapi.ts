/**
 * @module
 * The gateway's OpenAPI 3.1 document, built from the very zod schemas the routes validate
 * with (`api/schemas.ts`) and Clerk's response shapes (`clerk/schemas.ts`). It is built at
 * build time (`scripts/build-web.mjs` writes `public/openapi.json`, served as a static asset),
 * so the JSON Schema generator never ships in the Worker; test/openapi.test.ts checks that the
 * served file is what this module builds today and that it lists exactly the app's routes.
 */
import * as z from "zod/mini";
import { FapiActiveSession, FapiSession } from "../clerk/fapi";
import { ClerkErrors, Cookies, Jwks, Session, SessionActivity, Token } from "../clerk/schemas";
import {
  createBody,
  emptyBody,
  listQuery,
  meQuery,
  refreshBody,
  refreshQuery,
  sessionParams,
  templateParams,
  tokenBody,
} from "./schemas";

type Json = Record<string, unknown>;
type Method = "get" | "post";
type Caller = "user" | "service" | "refresh" | "none";

/** Query strings are text: documented as what a caller sends (`io: "input"`). */
const schemaOf = (schema: z.ZodMiniType): Json => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const COMPONENTS: Record<string, z.ZodMiniType> = {
  Session,
  SessionActivity,
  Token,
  Cookies,
  ClerkErrors,
  FapiActiveSession,
  FapiSession,
};

function components(): Json {
  const schemas: Json = {};
  for (const [name, schema] of Object.entries(COMPONENTS)) schemas[name] = schemaOf(schema);
  // Nested shapes point at their own component instead of repeating it.
  (schemas.Session as { properties: Json }).properties.latest_activity = {
    anyOf: [ref("SessionActivity"), { type: "null" }],
  };
  (schemas.FapiActiveSession as { properties: Json }).properties.latest_activity = ref("SessionActivity");
  schemas.SessionList = { type: "array", items: ref("Session") };
  schemas.PaginatedSessionList = {
    type: "object",
    properties: { data: { type: "array", items: ref("Session") }, total_count: { type: "integer" } },
    required: ["data", "total_count"],
  };
  schemas.FapiRevokeResponse = {
    type: "object",
    properties: { response: ref("FapiSession"), client: { type: "null" } },
    required: ["response", "client"],
  };
  return {
    schemas,
    securitySchemes: {
      sessionToken: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description: "A Clerk session token (clerk-js: `await Clerk.session.getToken()`), or the `__session` cookie.",
      },
      sessionCookie: { type: "apiKey", in: "cookie", name: "__session", description: "Clerk's session cookie." },
      serviceKey: {
        type: "http",
        scheme: "bearer",
        description: "One of GATEWAY_API_KEYS: the caller is a backend service (Backend-API semantics).",
      },
    },
  };
}

function parameters(where: "query" | "path", schema: z.ZodMiniType | undefined): Json[] {
  if (!schema) return [];
  const json = schemaOf(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: property,
  }));
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ref("ClerkErrors") } },
});

const SECURITY: Record<Caller, Json[]> = {
  user: [{ sessionToken: [] }, { sessionCookie: [] }],
  service: [{ serviceKey: [] }],
  refresh: [{}, { serviceKey: [] }],
  none: [],
};

interface Operation {
  method: Method;
  /** OpenAPI path (`{param}`); the Hono route is the same with `:param`. */
  path: string;
  operationId: string;
  tag: "Browser (Frontend API shapes)" | "Backend API" | "Gateway";
  summary: string;
  description: string;
  callers: Caller[];
  params?: z.ZodMiniType;
  query?: z.ZodMiniType;
  body?: z.ZodMiniType;
  /** The 200 response's schema, and what it is. */
  response: { description: string; schema: Json };
  errors: number[];
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "form_param_invalid: a parameter failed validation (meta.param_name names it); request_body_incomplete: the body ended before it was complete",
  401: "authentication_invalid: no credential, or one that does not verify",
  403: "authorization_invalid or session_reverification_required",
  404: "resource_not_found (also for another user's session: existence is never revealed)",
  409: "webhook_replayed: this message id was already applied",
  413: "request_body_too_large",
  429: "rate_limit_exceeded, with Retry-After",
  500: "internal_error (a misconfiguration names the setting, never its value)",
  502: "upstream_unavailable: Clerk failed or refused the gateway's key",
  503: "upstream_unavailable, or directory_unavailable (the user's session directory could not record or confirm a revocation; Retry-After)",
  504: "upstream_unavailable: Clerk did not answer in time",
};

const WRITE_ERRORS = [400, 401, 403, 404, 413, 429, 500, 502, 503, 504];
const READ_ERRORS = [400, 401, 403, 404, 429, 500, 502, 503, 504];

/** What both token-minting operations share. */
const TOKEN_MINT = {
  method: "post",
  tag: "Backend API",
  callers: ["service", "user"],
  body: tokenBody,
  response: { description: "The token", schema: ref("Token") },
  errors: WRITE_ERRORS,
} as const satisfies Partial<Operation>;
const USER_MINT_LIMIT = "`expires_in_seconds` at most USER_TOKEN_MAX_SECONDS (default 60)";

/** Every operation of the gateway, in the order of the README. */
export const OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: "/v1/me/sessions/active",
    operationId: "listMyActiveSessions",
    tag: "Browser (Frontend API shapes)",
    summary: "The caller's active sessions, with device and location",
    description:
      "Served from the KV cache (`X-Cache: HIT | MISS | STALE`). Shaped as Clerk's Frontend API `Client.ActiveSession`.",
    callers: ["user"],
    query: meQuery,
    response: {
      description: "Active sessions, newest activity first",
      schema: { type: "array", items: ref("FapiActiveSession") },
    },
    errors: READ_ERRORS,
  },
  {
    method: "get",
    path: "/v1/me/sessions",
    operationId: "listMySessions",
    tag: "Browser (Frontend API shapes)",
    summary: "All of the caller's sessions, every status",
    description: "Shaped as Clerk's Frontend API sessions; `factor_verification_age` is known only for the caller's.",
    callers: ["user"],
    query: meQuery,
    response: { description: "Sessions", schema: { type: "array", items: ref("FapiSession") } },
    errors: READ_ERRORS,
  },
  {
    method: "post",
    path: "/v1/me/sessions/{session_id}/revoke",
    operationId: "revokeMySession",
    tag: "Browser (Frontend API shapes)",
    summary: "Revoke one of the caller's own sessions",
    description:
      "Another device needs a first factor verified within REVOKE_MAX_FACTOR_AGE_MINUTES (403 `session_reverification_required`). The revoked session's tokens are refused at once.",
    callers: ["user"],
    params: sessionParams,
    query: meQuery,
    response: { description: "The revoked session", schema: ref("FapiRevokeResponse") },
    errors: WRITE_ERRORS,
  },
  {
    method: "get",
    path: "/v1/sessions",
    operationId: "listSessions",
    tag: "Backend API",
    summary: "List sessions",
    description:
      "Users see only their own (`user_id` absent or theirs). `user_id` + `status=active` is served from the cache.",
    callers: ["service", "user"],
    query: listQuery,
    response: {
      description: "A bare list, or `{ data, total_count }` with `paginated=true`",
      schema: { oneOf: [ref("SessionList"), ref("PaginatedSessionList")] },
    },
    errors: READ_ERRORS,
  },
  {
    method: "post",
    path: "/v1/sessions",
    operationId: "createSession",
    tag: "Backend API",
    summary: "Create an active session (services only)",
    description: "Clerk allows this on development instances only.",
    callers: ["service"],
    body: createBody,
    response: { description: "The new session", schema: ref("Session") },
    errors: WRITE_ERRORS,
  },
  {
    method: "get",
    path: "/v1/sessions/{session_id}",
    operationId: "getSession",
    tag: "Backend API",
    summary: "One session",
    description: "Users get only their own; anyone else's is a 404.",
    callers: ["service", "user"],
    params: sessionParams,
    response: { description: "The session", schema: ref("Session") },
    errors: READ_ERRORS,
  },
  {
    method: "post",
    path: "/v1/sessions/{session_id}/refresh",
    operationId: "refreshSession",
    tag: "Backend API",
    summary: "Refresh a session: a new token or cookies",
    description:
      "Authenticated by the body's `expired_token` (signature, issuer, azp checked; not expiry), whose `sid` must be `{session_id}`, or by a service key. With `expired_token`, `request_origin` must be one of CLERK_AUTHORIZED_PARTIES, attempts are counted per session and address, and the owner's write allowance is spent only when Clerk accepts the refresh.",
    callers: ["refresh"],
    params: sessionParams,
    query: refreshQuery,
    body: refreshBody,
    response: {
      description: "A token, or cookies with `format=cookie`",
      schema: { oneOf: [ref("Token"), ref("Cookies")] },
    },
    errors: WRITE_ERRORS,
  },
  {
    method: "post",
    path: "/v1/sessions/{session_id}/revoke",
    operationId: "revokeSession",
    tag: "Backend API",
    summary: "Revoke a session",
    description: "Users revoke only their own. The revoked session's tokens are refused at once.",
    callers: ["service", "user"],
    params: sessionParams,
    body: emptyBody,
    response: { description: "The revoked session", schema: ref("Session") },
    errors: WRITE_ERRORS,
  },
  {
    ...TOKEN_MINT,
    path: "/v1/sessions/{session_id}/tokens",
    operationId: "createSessionToken",
    summary: "Mint a session token",
    description: `Users mint only for the session they are signed in with, and ${USER_MINT_LIMIT}.`,
    params: sessionParams,
  },
  {
    ...TOKEN_MINT,
    path: "/v1/sessions/{session_id}/tokens/{template_name}",
    operationId: "createTemplateToken",
    summary: "Mint a JWT-template token",
    description: `Users mint only for their current session, only templates in JWT_TEMPLATES_ALLOWED, and ${USER_MINT_LIMIT}.`,
    params: templateParams,
  },
  {
    method: "get",
    path: "/v1/jwks",
    operationId: "getJwks",
    tag: "Backend API",
    summary: "Clerk's signing keys (JWKS), from the gateway's key cache",
    description:
      "What `@clerk/backend`'s `verifyToken` and `authenticateRequest` fetch from `{apiUrl}/v1/jwks`. Public (any credential sent is ignored), `Cache-Control: public, max-age=300`. RSA public members only.",
    callers: ["none"],
    response: { description: "The key set", schema: schemaOf(Jwks) },
    errors: [500, 502, 503, 504],
  },
  {
    method: "get",
    path: "/.well-known/gateway-jwks.json",
    operationId: "getAssertionJwks",
    tag: "Gateway",
    summary: "The public keys of the proxy's identity assertions",
    description:
      "Proxy mode with ORIGIN_ASSERTION_KEYS: what an origin verifies `X-Gateway-Assertion` with (Ed25519 or P-256, each under its RFC 7638 thumbprint). Public, `Cache-Control: public, max-age=300`; 404 naming the setting when no key is set.",
    callers: ["none"],
    response: {
      description: "The key set",
      schema: schemaOf(
        z.object({
          keys: z.array(
            z.object({
              kty: z.enum(["OKP", "EC"]),
              crv: z.enum(["Ed25519", "P-256"]),
              x: z.string(),
              y: z.optional(z.string()),
              kid: z.string(),
              alg: z.enum(["EdDSA", "ES256"]),
              use: z.literal("sig"),
            }),
          ),
        }),
      ),
    },
    errors: [404, 500],
  },
  {
    method: "post",
    path: "/webhooks/clerk",
    operationId: "receiveClerkWebhook",
    tag: "Gateway",
    summary: "Clerk's session webhooks (Svix-signed)",
    description:
      "Subscribe session.created, .pending, .ended, .removed and .revoked in Clerk's dashboard. Verified with CLERK_WEBHOOK_SIGNING_SECRET.",
    callers: ["none"],
    body: z.looseObject({ type: z.string(), data: z.looseObject({}) }),
    response: {
      description: "Accepted",
      schema: schemaOf(z.object({ received: z.literal(true), type: z.string(), applied: z.boolean() })),
    },
    errors: [400, 401, 409, 413, 500, 503],
  },
  {
    method: "get",
    path: "/healthz",
    operationId: "health",
    tag: "Gateway",
    summary: "Liveness",
    description: "200 when the gateway's configuration loads; no credential, no call to Clerk.",
    callers: ["none"],
    response: { description: "Alive", schema: schemaOf(z.object({ status: z.literal("ok") })) },
    errors: [],
  },
];

function operationObject(op: Operation): Json {
  const security = op.callers.flatMap((caller) => SECURITY[caller]);
  const callers = op.callers.includes("refresh")
    ? "the session's own `expired_token` in the body, or a service key"
    : op.callers.includes("none")
      ? "no credential"
      : op.callers.join(" or ");
  const responses: Json = {
    200: { description: op.response.description, content: { "application/json": { schema: op.response.schema } } },
  };
  for (const status of op.errors) responses[status] = errorResponse(ERROR_DESCRIPTIONS[status] ?? "error");
  const operation: Json = {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: `${op.description}\n\nCallers: ${callers}.`,
    parameters: [...parameters("path", op.params), ...parameters("query", op.query)],
    responses,
  };
  if (op.body) {
    operation.requestBody = {
      // Clerk's SDK sends no body at all when there is nothing to say; that counts as `{}`.
      required: op.body === createBody || op.body === refreshBody || op.path === "/webhooks/clerk",
      content: { "application/json": { schema: schemaOf(op.body) } },
    };
  }
  if (!op.callers.includes("none")) operation.security = security;
  return operation;
}

export function buildOpenApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    paths[op.path] ??= {};
    (paths[op.path] as Json)[op.method] = operationObject(op);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "clerk-session-gateway",
      version: "0.1.0",
      summary: "An edge gateway on Cloudflare Workers for Clerk's session APIs",
      description:
        "Browsers call `/v1/me/*` with their Clerk session token; backend services call `/v1/sessions*` with a gateway service key, exactly as Clerk's Backend API. Every error is Clerk's envelope.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "This gateway" }],
    tags: [
      { name: "Browser (Frontend API shapes)", description: "For signed-in users, in Clerk's Frontend API shapes" },
      { name: "Backend API", description: "Clerk's Backend API session operations, cached and guarded" },
      { name: "Gateway", description: "Webhooks and health" },
    ],
    paths,
    components: components(),
  };
}
