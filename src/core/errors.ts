/**
 * @module
 * One error type for the whole gateway, rendered in Clerk's envelope so Clerk SDKs
 * surface gateway errors exactly as they surface Clerk's own (`ClerkAPIResponseError`).
 */

/**
 * One error as the gateway sends it: Clerk's shape (`ClerkError` in clerk/schemas.ts parses
 * Clerk's own), with `long_message` always present.
 */
export type ClerkErrorBody = {
  code: string;
  message: string;
  long_message: string;
  meta?: Record<string, unknown> | undefined;
  [field: string]: unknown;
};

/** Clerk's error envelope (`ClerkErrors` in clerk/schemas.ts), as the gateway answers with it. */
export type ClerkErrorEnvelope = {
  errors: ClerkErrorBody[];
  clerk_trace_id?: string | undefined;
  [field: string]: unknown;
};

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504;

export class ApiError extends Error {
  readonly status: number;
  readonly errors: ClerkErrorBody[];
  readonly headers: Record<string, string>;
  readonly traceId: string | undefined;
  /** Another attempt cannot change the outcome (Clerk refused the gateway's secret key): never retried. */
  readonly final: boolean;

  constructor(
    status: number,
    errors: ClerkErrorBody[],
    options: { headers?: Record<string, string>; traceId?: string; cause?: unknown; final?: boolean } = {},
  ) {
    super(errors[0]?.long_message ?? "Gateway error", { cause: options.cause });
    this.name = "ApiError";
    this.status = status;
    this.errors = errors;
    this.headers = options.headers ?? {};
    this.traceId = options.traceId;
    this.final = options.final ?? false;
  }

  get code(): string {
    return this.errors[0]?.code ?? "internal_error";
  }

  toEnvelope(fallbackTraceId?: string): ClerkErrorEnvelope {
    const traceId = this.traceId ?? fallbackTraceId;
    return traceId ? { errors: this.errors, clerk_trace_id: traceId } : { errors: this.errors };
  }
}

function single(
  status: ErrorStatus,
  code: string,
  message: string,
  longMessage: string,
  meta?: Record<string, unknown>,
  headers?: Record<string, string>,
): ApiError {
  const body: ClerkErrorBody = { code, message, long_message: longMessage };
  if (meta) body.meta = meta;
  return new ApiError(status, [body], headers ? { headers } : {});
}

/** 401: no credential, or one that does not verify. The reason stays generic on purpose. */
export const unauthenticated = (
  longMessage = "Unable to authenticate the request, you need to supply an active session",
) => single(401, "authentication_invalid", "Invalid authentication", longMessage);

export const forbidden = (longMessage = "You are not authorized to perform this request") =>
  single(403, "authorization_invalid", "Unauthorized request", longMessage);

/** 404 that never says whether the resource exists for someone else. */
export const notFound = (longMessage = "Resource not found") =>
  single(404, "resource_not_found", "not found", longMessage);

export const invalidParam = (paramName: string, longMessage: string) =>
  single(400, "form_param_invalid", "is invalid", longMessage, { param_name: paramName });

export const payloadTooLarge = (limitBytes: number) =>
  single(413, "request_body_too_large", "Request body too large", `Request bodies are limited to ${limitBytes} bytes`);

export const rateLimited = (retryAfterSeconds: number, longMessage = "Too many requests, please retry later") =>
  single(429, "rate_limit_exceeded", "Too many requests", longMessage, undefined, {
    "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });

export const upstreamUnavailable = (status: 502 | 503 | 504, longMessage: string, retryAfterSeconds?: number) =>
  single(
    status,
    "upstream_unavailable",
    "Clerk is unavailable",
    longMessage,
    undefined,
    retryAfterSeconds === undefined ? undefined : { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  );

/** A configuration problem: names the setting, never its value. */
export const misconfigured = (setting: string, problem: string) =>
  single(500, "internal_error", "Gateway misconfigured", `The gateway setting ${setting} ${problem}.`, {
    setting,
  });

/** The setting a misconfiguration names (never its value), for the request log. */
export function misconfiguredSetting(error: ApiError): string | undefined {
  const setting = error.errors[0]?.meta?.setting;
  return error.code === "internal_error" && typeof setting === "string" ? setting : undefined;
}

export const internalError = () =>
  single(500, "internal_error", "Internal error", "The gateway hit an unexpected error. It has been logged.");

/**
 * The one rendering of an error: Clerk's envelope with the error's own headers (Retry-After,
 * Allow), marked never to be stored, as every response of the gateway's is. Anything that is not
 * an ApiError is the gateway's own fault and renders as a bare 500, its details left to the log.
 */
export function errorResponse(error: unknown, traceId?: string): Response {
  const apiError = error instanceof ApiError ? error : internalError();
  return Response.json(apiError.toEnvelope(traceId), {
    status: apiError.status,
    headers: { ...apiError.headers, "Cache-Control": "private, no-store" },
  });
}
