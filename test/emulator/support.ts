/**
 * What the emulator's own test files share: Backend and Frontend API requests, Clerk's error
 * envelope checked against the spec, and schema assertions.
 */
import { expect } from "vitest";
import { TEST_API_URL, TEST_ISSUER, TEST_SECRET_KEY } from "../support/config";
import { type ValidationResult, validateBapi, validateFapi, validateResponse } from "../support/openapi";

export type Json = Record<string, unknown>;

/** The Frontend API host: the issuer's (the publishable key's). */
export const FAPI = TEST_ISSUER;

export interface RequestOptions {
  body?: unknown;
  form?: Record<string, string>;
  key?: string | null;
  headers?: Record<string, string>;
}

/** A Backend API request (secret key unless `key` says otherwise). */
export function bapi(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? TEST_SECRET_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  return fetch(`${TEST_API_URL}${path}`, { method, headers, body });
}

/** A Frontend API request on the FAPI host (or any base), form-encoded as clerk-js sends it. */
export function fapi(method: string, path: string, options: RequestOptions & { base?: string } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.form !== undefined) {
    body = new URLSearchParams(options.form).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  return fetch(`${options.base ?? FAPI}${path}`, { method, headers, body, redirect: "manual" });
}

export async function json<T = Json>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export function expectValid(result: ValidationResult): void {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

/** Asserts Clerk's error envelope with the given status and code (valid per the BAPI or FAPI spec). */
export async function expectClerkError(
  response: Response,
  status: number,
  code: string,
  spec: "bapi" | "fapi" = "bapi",
) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = await json<{
    errors: Array<{ code: string; long_message: string; meta?: Json }>;
    clerk_trace_id: string;
  }>(response);
  expectValid(spec === "bapi" ? validateBapi("ClerkErrors", body) : validateFapi("ClerkErrors", body));
  expect(body.errors[0]?.code).toBe(code);
  expect(body.clerk_trace_id).toBe(response.headers.get("x-clerk-trace-id"));
  return body;
}

/** Validates a body against the documented response of `method path status`. */
export function expectDocumented(
  spec: "bapi" | "fapi",
  method: string,
  path: string,
  status: number,
  body: unknown,
): void {
  expectValid(validateResponse(spec, method, path, status, body));
}
