/** Request parsing with Clerk's error codes (422 form_param_* with meta.param_name). */
import { Errors } from "./errors";

export type JsonObject = Record<string, unknown>;

/**
 * The JSON object body of a request; `{}` when the body is empty (Clerk's SDK sends no body
 * when there are no parameters). Anything that is not a JSON object is a 400.
 */
export async function readJsonObject(request: Request): Promise<JsonObject> {
  const text = await request.text();
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw Errors.requestBodyInvalid();
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw Errors.requestBodyInvalid();
  return value as JsonObject;
}

/** A required, non-empty string parameter. */
export function requiredString(body: JsonObject, name: string): string {
  const v = body[name];
  if (v === undefined || v === null || v === "") throw Errors.formParamMissing(name);
  if (typeof v !== "string") throw Errors.formParamInvalid(name, `${name} must be a string.`);
  return v;
}

/** An optional string parameter (absent or null → undefined). */
export function optionalString(body: JsonObject, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw Errors.formParamInvalid(name, `${name} must be a string.`);
  return v;
}

/** Rejects parameters a schema with `additionalProperties: false` does not list. */
export function rejectUnknown(body: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw Errors.formParamUnknown(key);
}

export const MIN_EXPIRES_IN_SECONDS = 30;
export const MAX_EXPIRES_IN_SECONDS = 315_360_000;

/** `expires_in_seconds`: integer 30..315360000, or null/absent for the default. */
export function expiresInSeconds(body: JsonObject): number | null {
  const v = body.expires_in_seconds;
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < MIN_EXPIRES_IN_SECONDS || v > MAX_EXPIRES_IN_SECONDS) {
    throw Errors.formParamInvalid(
      "expires_in_seconds",
      `expires_in_seconds must be an integer between ${MIN_EXPIRES_IN_SECONDS} and ${MAX_EXPIRES_IN_SECONDS}.`,
    );
  }
  return v;
}

/** An integer query parameter within bounds; `fallback` when absent. */
export function queryInteger(
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw)) throw Errors.formParamInvalid(name, `${name} must be an integer.`);
  const n = Number(raw);
  if (n < min || n > max) {
    throw Errors.formParamInvalid(
      name,
      max === Number.MAX_SAFE_INTEGER
        ? `${name} must be greater than or equal to ${min}.`
        : `${name} must be between ${min} and ${max}.`,
    );
  }
  return n;
}

/** A boolean query parameter (`true`/`false`). */
export function queryBoolean(params: URLSearchParams, name: string): boolean | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw Errors.formParamInvalid(name, `${name} must be true or false.`);
}
