/**
 * @module
 * Every route validates its input here, before anything else happens, and reads it
 * back only through `c.req.valid(...)`. A failure is Clerk's `form_param_invalid`
 * naming the parameter.
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type * as z from "zod/mini";
import { invalidParam } from "../core/errors";

export const validate = <Target extends keyof ValidationTargets, Schema extends z.ZodMiniType>(
  target: Target,
  schema: Schema,
) =>
  zValidator(target, schema, (result) => {
    if (result.success) return;
    const issue = result.error.issues[0];
    const param =
      issue?.code === "unrecognized_keys"
        ? [...issue.path.map(String), issue.keys[0]].join(".")
        : issue?.path.map(String).join(".") || (target === "json" ? "body" : target);
    throw invalidParam(param, describe(param, issue));
  });

function describe(param: string, issue: z.core.$ZodIssue | undefined): string {
  switch (issue?.code) {
    case "unrecognized_keys":
      return `${issue.keys.join(", ")} is not a recognised parameter`;
    case "invalid_type":
      return issue.input === undefined ? `${param} is required` : `${param} must be a ${issue.expected}`;
    case "too_small":
    case "too_big":
      return `${param} is out of range`;
    case "invalid_value":
      return `${param} must be one of: ${issue.values.map(String).join(", ")}`;
    default:
      return `${param} is invalid`;
  }
}

const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * JSON bodies: Clerk's SDK sends `Content-Type: application/json` with no body at all
 * when an operation has no body params (revoke, tokens), which is `{}`, not malformed JSON.
 * A body sent without that content type (curl's `-d` alone sends a form type) would otherwise be
 * read as no body at all and answered "user_id is required"; it is named for what it is, as is
 * a JSON value that is not an object.
 */
export const validateJson = <Schema extends z.ZodMiniType>(schema: Schema) => {
  const inner = validate("json", schema);
  return (async (c, next) => {
    const text = await c.req.text();
    if (text.trim() === "") {
      // Hono caches bodies as promises (typed loosely as Body); json() parses the cached text.
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve("{}");
    } else {
      if (!JSON_MEDIA_TYPE.test(c.req.header("Content-Type") ?? "")) {
        throw invalidParam("body", "The request body must be JSON, sent with `Content-Type: application/json`");
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw invalidParam("body", "The request body is not valid JSON");
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw invalidParam("body", "The request body must be a JSON object");
      }
    }
    return inner(c, next);
  }) as typeof inner;
};
