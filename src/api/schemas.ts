/**
 * @module
 * The gateway's request schemas: the one source for validation (routes read them through
 * `validate(...)`), for the OpenAPI document (`src/api/openapi.ts`) and for the typed client's
 * request types (`client/`). Change a schema here and all three follow.
 */
import * as z from "zod/mini";
import { SESSION_LIST_STATUSES } from "../clerk/schemas";
import { CLIENT_ID, ORGANIZATION_ID, SESSION_ID, TEMPLATE_NAME, USER_ID } from "../core/ids";

const pattern = (regex: RegExp) => z.string().check(z.regex(regex));

export const sessionId = pattern(SESSION_ID);
export const userId = pattern(USER_ID);
export const clientId = pattern(CLIENT_ID);
export const organizationId = pattern(ORGANIZATION_ID);
export const templateName = pattern(TEMPLATE_NAME);

/** Query values arrive as strings; Clerk's SDKs send numbers and booleans as text. */
export const intParam = (min: number, max: number) =>
  z.pipe(
    z.string().check(z.regex(/^\d{1,10}$/)),
    z.pipe(
      z.transform((value: string) => Number(value)),
      z.int().check(z.gte(min), z.lte(max)),
    ),
  );
export const boolParam = z.pipe(
  z.enum(["true", "false"]),
  z.transform((value) => value === "true"),
);

export const sessionParams = z.object({ session_id: sessionId });
export const templateParams = z.object({ session_id: sessionId, template_name: templateName });

/** `_clerk_session_id`, which clerk-js adds to every /v1/me call. */
export const meQuery = z.looseObject({ _clerk_session_id: z.optional(sessionId) });

export const listQuery = z.looseObject({
  client_id: z.optional(clientId),
  user_id: z.optional(userId),
  status: z.optional(z.enum(SESSION_LIST_STATUSES)),
  limit: z.optional(intParam(1, 500)),
  offset: z.optional(intParam(0, 1_000_000_000)),
  paginated: z.optional(boolParam),
});
export const createBody = z.strictObject({ user_id: userId, active_organization_id: z.optional(organizationId) });
export const tokenBody = z.strictObject({
  expires_in_seconds: z.optional(z.nullable(z.int().check(z.gte(30), z.lte(315_360_000)))),
});
export const refreshBody = z.strictObject({
  expired_token: z.string().check(z.minLength(1), z.maxLength(8_192)),
  refresh_token: z.string().check(z.minLength(1), z.maxLength(4_096)),
  request_origin: z.string().check(z.minLength(1), z.maxLength(2_048)),
  request_headers: z.optional(z.nullable(z.record(z.string(), z.union([z.string(), z.array(z.string())])))),
  format: z.optional(z.nullable(z.enum(["token", "cookie"]))),
  request_originating_ip: z.optional(z.nullable(z.string().check(z.maxLength(64)))),
});
export const refreshQuery = z.looseObject({ suffixed_cookies: z.optional(boolParam) });
/** Revoke takes no body; Clerk's SDK sends none (or `{}`). */
export const emptyBody = z.strictObject({});

/** What a caller sends (before query strings are turned into numbers and booleans). */
export type ListSessionsQuery = z.input<typeof listQuery>;
export type CreateSessionBody = z.input<typeof createBody>;
export type TokenBody = z.input<typeof tokenBody>;
export type RefreshSessionBody = z.input<typeof refreshBody>;
