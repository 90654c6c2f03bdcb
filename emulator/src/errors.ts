/**
 * Clerk's error envelope (`ClerkErrors`): `{errors:[{code,message,long_message,meta?}], clerk_trace_id}`.
 * Handlers throw `ClerkApiError`; the app turns it into a response carrying the request's trace ID.
 */
import type { ClerkErrorJSON, ClerkErrorsJSON } from "./types";

export class ClerkApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ClerkErrorJSON[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors[0]?.message ?? "Clerk API error");
  }
}

export function errorBody(errors: ClerkErrorJSON[], traceId: string): ClerkErrorsJSON {
  return { errors, clerk_trace_id: traceId };
}

export function errorResponse(
  status: number,
  errors: ClerkErrorJSON[],
  traceId: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(errorBody(errors, traceId), { status, headers });
}

export function toResponse(err: ClerkApiError, traceId: string): Response {
  return errorResponse(err.status, err.errors, traceId, err.headers);
}

function single(status: number, error: ClerkErrorJSON, headers?: Record<string, string>): ClerkApiError {
  return new ClerkApiError(status, [error], headers);
}

/** The errors the emulator produces, with Clerk's codes and wording where Clerk's are known. */
export const Errors = {
  authenticationInvalid: (longMessage = "Unable to authenticate the request, you need to supply an active session") =>
    single(401, { code: "authentication_invalid", message: "Invalid authentication", long_message: longMessage }),
  clerkKeyInvalid: () =>
    single(401, {
      code: "clerk_key_invalid",
      message: "Secret Key is invalid",
      long_message: "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
    }),
  resourceNotFound: (longMessage = "Resource not found") =>
    single(404, { code: "resource_not_found", message: "not found", long_message: longMessage }),
  formParamMissing: (param: string) =>
    single(422, {
      code: "form_param_missing",
      message: "missing",
      long_message: `${param} must be included.`,
      meta: { param_name: param },
    }),
  formParamInvalid: (param: string, longMessage?: string) =>
    single(422, {
      code: "form_param_invalid",
      message: "is invalid",
      long_message: longMessage ?? `${param} is invalid.`,
      meta: { param_name: param },
    }),
  formParamUnknown: (param: string) =>
    single(422, {
      code: "form_param_unknown",
      message: "is unknown",
      long_message: `${param} is not a valid parameter for this request.`,
      meta: { param_name: param },
    }),
  requestBodyInvalid: () =>
    single(400, {
      code: "request_body_invalid",
      message: "Request body invalid",
      long_message: "The request body is not valid JSON or is not a JSON object.",
    }),
  apiVersionInvalid: (longMessage: string) =>
    single(400, { code: "api_version_invalid", message: "Invalid API version", long_message: longMessage }),
  sessionNotActive: (sessionId: string, status: string) =>
    single(401, {
      code: "authentication_invalid",
      message: "Invalid authentication",
      long_message: `Session ${sessionId} is ${status}; tokens can only be created for active or pending sessions.`,
      meta: { session_id: sessionId },
    }),
  badRequest: (longMessage: string) =>
    single(400, { code: "bad_request", message: "Bad request", long_message: longMessage }),
  /** FAPI: a development instance's request without a dev browser (`__clerk_db_jwt`). */
  devBrowserUnauthenticated: () =>
    single(401, {
      code: "dev_browser_unauthenticated",
      message: "Unauthenticated",
      long_message: "Browser unauthenticated",
    }),
  /** FAPI: no client, or the session is not signed in. */
  signedOut: () => single(401, { code: "signed_out", message: "Signed out", long_message: "You are signed out" }),
  formIdentifierNotFound: () =>
    single(422, {
      code: "form_identifier_not_found",
      message: "Couldn't find your account.",
      long_message: "Couldn't find your account.",
      meta: { param_name: "identifier" },
    }),
  formPasswordIncorrect: () =>
    single(422, {
      code: "form_password_incorrect",
      message: "Password is incorrect. Try again, or use another method.",
      long_message: "Password is incorrect. Try again, or use another method.",
      meta: { param_name: "password" },
    }),
  sessionExists: () =>
    single(400, {
      code: "session_exists",
      message: "You're already signed in.",
      long_message: "You're already signed in.",
    }),
  /** FAPI through a proxy: `Clerk-Proxy-Url` without `Clerk-Secret-Key`, or a wrong one. */
  proxyMissingSecretKey: () =>
    single(401, {
      code: "proxy_request_missing_secret_key",
      message: "Missing secret key",
      long_message: "A proxied Frontend API request (Clerk-Proxy-Url) must carry the instance's Clerk-Secret-Key.",
    }),
  proxyInvalidSecretKey: () =>
    single(401, {
      code: "proxy_request_invalid_secret_key",
      message: "Invalid secret key",
      long_message: "The Clerk-Secret-Key of this proxied Frontend API request is not the instance's secret key.",
    }),
  /** FAPI's shared host (`frontend-api.clerk.dev`) without proxy headers names no instance. */
  hostInvalid: () =>
    single(400, {
      code: "host_invalid",
      message: "Invalid host",
      long_message:
        "The shared Frontend API host is only reachable through a proxy (Clerk-Proxy-Url and Clerk-Secret-Key).",
    }),
  internal: (
    longMessage = "There was an internal error on our servers. We've been notified and are working on fixing it.",
  ) =>
    single(500, {
      code: "internal_clerk_error",
      message: "Oops, an unexpected error occurred",
      long_message: longMessage,
    }),
};
