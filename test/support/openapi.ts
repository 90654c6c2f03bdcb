/**
 * Validation against Clerk's own OpenAPI specs (BAPI and FAPI 2026-05-12, webhooks 2025-04-15),
 * inside workerd. Ajv needs `eval`, which workerd forbids, so this uses @cfworker/json-schema.
 *
 * The specs are OpenAPI 3.0, so their schemas are converted to JSON Schema (2019-09) first:
 * - `nullable: true` becomes `type: [t, "null"]` (plus `null` in an `enum`); on a schema built
 *   from `$ref`/`allOf`/`anyOf`/`oneOf` it becomes `anyOf: [{type: "null"}, <schema>]`;
 * - `$ref` siblings are dropped (3.0 ignores them) and `#/components/schemas/X` points at `$defs/X`;
 * - boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric form;
 * - annotations (`description`, `example`, `discriminator`, `x-*`, …) are dropped;
 * - `additionalProperties: false` is kept wherever the spec has it.
 *
 * Usage: `validateBapi("Session", body)`, `validateBapi("Session.List", list)` (a named response),
 * `validateFapi("Client.ActiveSession", item)`,
 * `validateResponse("bapi", "GET", "/v1/sessions/sess_…", 200, body)`; each returns `{valid, errors}`.
 */
import { dereference, encodePointer, type Schema, validate } from "@cfworker/json-schema";
import { parse } from "yaml";
import bapiText from "../../spec/clerk-openapi/bapi/2026-05-12.yml?raw";
import fapiText from "../../spec/clerk-openapi/fapi/2026-05-12.yml?raw";
import webhooksText from "../../spec/clerk-openapi/webhooks/2025-04-15.yml?raw";

export type SpecName = "bapi" | "fapi" | "webhooks";

export interface ValidationResult {
  valid: boolean;
  /** One line per failure: `<instance location>: <message> (<schema keyword location>)`. */
  errors: string[];
}

type JsonObject = Record<string, unknown>;

const SOURCES: Record<SpecName, string> = { bapi: bapiText, fapi: fapiText, webhooks: webhooksText };
const SCHEMA_PREFIX = "#/components/schemas/";

/** Keywords that carry over from OpenAPI 3.0 unchanged. */
const PASSTHROUGH = [
  "type",
  "enum",
  "const",
  "required",
  "minimum",
  "maximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "format",
] as const;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function convertRef(ref: string): string {
  if (!ref.startsWith(SCHEMA_PREFIX)) throw new Error(`unsupported $ref ${ref}`);
  return `#/$defs/${encodePointer(ref.slice(SCHEMA_PREFIX.length))}`;
}

/** Converts one OpenAPI 3.0 schema object into JSON Schema 2019-09. */
export function toJsonSchema(node: unknown): Schema | boolean {
  if (typeof node === "boolean") return node;
  if (!isObject(node)) return {};
  const nullable = node.nullable === true;
  if (typeof node.$ref === "string") {
    const ref: Schema = { $ref: convertRef(node.$ref) };
    return nullable ? { anyOf: [{ type: "null" }, ref] } : ref;
  }
  const out: JsonObject = {};
  for (const key of PASSTHROUGH) if (key in node) out[key] = node[key];
  for (const [flag, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (node[flag] === true && typeof node[bound] === "number") {
      out[flag] = node[bound];
      delete out[bound];
    }
  }
  if (isObject(node.properties)) {
    out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toJsonSchema(v)]));
  }
  if (node.additionalProperties !== undefined) out.additionalProperties = toJsonSchema(node.additionalProperties);
  if (node.items !== undefined) out.items = toJsonSchema(node.items);
  if (node.not !== undefined) out.not = toJsonSchema(node.not);
  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    const list = node[key];
    if (Array.isArray(list)) out[key] = list.map(toJsonSchema);
  }
  if (nullable) {
    if (out.allOf || out.anyOf || out.oneOf || out.not) return { anyOf: [{ type: "null" }, out as Schema] };
    if (typeof out.type === "string") out.type = [out.type, "null"];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out as Schema;
}

interface LoadedSpec {
  doc: JsonObject;
  baseId: string;
  lookup: Record<string, Schema | boolean>;
  schemaNames: string[];
  /** Converted inline response schemas, by operation and status. */
  responseSchemas: Map<string, Schema | boolean | null>;
}

const loaded = new Map<SpecName, LoadedSpec>();

/** Parses and converts a spec once per test file (the BAPI file is ~740 KB of YAML). */
function load(spec: SpecName): LoadedSpec {
  const cached = loaded.get(spec);
  if (cached) return cached;
  const doc = parse(SOURCES[spec]) as JsonObject;
  const components = isObject(doc.components) ? doc.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  const baseId = `https://clerk-openapi.invalid/${spec}.json`;
  const root: Schema = {
    $id: baseId,
    $defs: Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, toJsonSchema(s)])),
  };
  const entry: LoadedSpec = {
    doc,
    baseId,
    lookup: dereference(root),
    schemaNames: Object.keys(schemas),
    responseSchemas: new Map(),
  };
  loaded.set(spec, entry);
  return entry;
}

function run(loadedSpec: LoadedSpec, schema: Schema | boolean, value: unknown): ValidationResult {
  const result = validate(value, schema, "2019-09", loadedSpec.lookup, false);
  return {
    valid: result.valid,
    errors: result.errors.map((e) => `${e.instanceLocation}: ${e.error} (${e.keywordLocation})`),
  };
}

/** The names of a spec's `components.schemas`. */
export function schemaNames(spec: SpecName): string[] {
  return [...load(spec).schemaNames];
}

/**
 * Validates `value` against `components.schemas[name]` of a spec or, when there is no such
 * schema, against the JSON body of `components.responses[name]` (e.g. BAPI "Session.List").
 */
export function validateSchema(spec: SpecName, name: string, value: unknown): ValidationResult {
  const s = load(spec);
  const schema = s.lookup[`${s.baseId}#/$defs/${encodePointer(name)}`];
  if (schema !== undefined) return run(s, schema, value);
  const responses =
    isObject(s.doc.components) && isObject(s.doc.components.responses) ? s.doc.components.responses : {};
  if (!(name in responses)) throw new Error(`${spec} has no schema or response named ${name}`);
  const key = `response ${name}`;
  let converted = s.responseSchemas.get(key);
  if (converted === undefined) {
    converted = registerInline(s, jsonBodySchema(resolveResponse(s.doc, responses[name])));
    s.responseSchemas.set(key, converted);
  }
  if (converted === null) throw new Error(`${spec} response ${name} has no JSON body`);
  return run(s, converted, value);
}

export const validateBapi = (schemaName: string, value: unknown) => validateSchema("bapi", schemaName, value);
export const validateFapi = (schemaName: string, value: unknown) => validateSchema("fapi", schemaName, value);
export const validateWebhookSchema = (schemaName: string, value: unknown) =>
  validateSchema("webhooks", schemaName, value);

function templateRegex(template: string): RegExp {
  const escaped = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith("{") ? "[^/]+" : part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${escaped}$`);
}

/** The spec path template a concrete path belongs to; literal segments win over parameters. */
export function matchPathTemplate(spec: SpecName, path: string): string | null {
  const paths = load(spec).doc.paths;
  if (!isObject(paths)) return null;
  const templates = Object.keys(paths).sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  const candidates = path.startsWith("/v1/") ? [path, path.slice(3)] : [path];
  for (const candidate of candidates) {
    const hit = templates.find((t) => t === candidate) ?? templates.find((t) => templateRegex(t).test(candidate));
    if (hit) return hit;
  }
  return null;
}

function resolveResponse(doc: JsonObject, response: unknown): JsonObject | null {
  if (!isObject(response)) return null;
  const ref = response.$ref;
  if (typeof ref === "string") {
    const name = ref.replace("#/components/responses/", "");
    const responses = isObject(doc.components) && isObject(doc.components.responses) ? doc.components.responses : {};
    return resolveResponse(doc, responses[name]);
  }
  return response;
}

/**
 * Validates a response body against the operation's documented response for that status
 * (exact status, then `4XX`/`5XX`, then `default`). `path` may be concrete (`/v1/sessions/sess_…`)
 * or a template; for BAPI the `/v1` server prefix is optional.
 */
export function validateResponse(
  spec: SpecName,
  method: string,
  path: string,
  status: number,
  body: unknown,
): ValidationResult {
  const s = load(spec);
  const template = matchPathTemplate(spec, path);
  if (!template) return { valid: false, errors: [`${spec} has no path matching ${path}`] };
  const key = `${method.toLowerCase()} ${template} ${status}`;
  let schema = s.responseSchemas.get(key);
  if (schema === undefined) {
    const paths = s.doc.paths as JsonObject;
    const operation = (paths[template] as JsonObject)[method.toLowerCase()];
    if (!isObject(operation) || !isObject(operation.responses)) {
      return { valid: false, errors: [`${spec} has no ${method.toUpperCase()} ${template}`] };
    }
    const responses = operation.responses;
    const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    const response = resolveResponse(s.doc, documented);
    if (!response) return { valid: false, errors: [`${method.toUpperCase()} ${template} documents no ${status}`] };
    schema = registerInline(s, jsonBodySchema(response));
    s.responseSchemas.set(key, schema);
  }
  if (schema === null) {
    return body === undefined || body === null || body === ""
      ? { valid: true, errors: [] }
      : { valid: false, errors: [`${method.toUpperCase()} ${template} ${status} documents no JSON body`] };
  }
  return run(s, schema, body);
}

/** The OpenAPI schema of a response's `application/json` body, if it has one. */
function jsonBodySchema(response: JsonObject | null): unknown {
  const content = response && isObject(response.content) ? response.content : {};
  const media = content["application/json"];
  return isObject(media) ? media.schema : undefined;
}

/** Converts an inline OpenAPI schema and registers it next to the spec's own schemas. */
function registerInline(s: LoadedSpec, raw: unknown): Schema | null {
  if (raw === undefined) return null;
  const converted = toJsonSchema(raw);
  // Its own $id under the spec's base; its `#/$defs/…` refs are rebased onto the spec document.
  const wrapper: Schema = {
    $id: `${s.baseId.replace(/\.json$/, "")}/inline/${s.responseSchemas.size}.json`,
    allOf: [typeof converted === "boolean" ? (converted ? {} : { not: {} }) : converted],
  };
  rebaseRefs(wrapper, s.baseId);
  dereference(wrapper, s.lookup);
  return wrapper;
}

function rebaseRefs(node: unknown, baseId: string): void {
  if (Array.isArray(node)) {
    for (const item of node) rebaseRefs(item, baseId);
  } else if (isObject(node)) {
    if (typeof node.$ref === "string" && node.$ref.startsWith("#/$defs/")) node.$ref = `${baseId}${node.$ref}`;
    for (const value of Object.values(node)) rebaseRefs(value, baseId);
  }
}
