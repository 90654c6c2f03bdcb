/**
 * What /docs shows of the document's schemas: each response's body as a type ("FapiActiveSession[]",
 * "SessionList | PaginatedSessionList"), each component named in it a link to the component, and
 * the components themselves (Session, FapiActiveSession, …) as property tables, nested objects
 * expanded in place. Built as plain data, never from HTML strings and without the DOM, so it is
 * tested outside a browser (test/docs-schemas.test.ts); web/docs.ts turns it into elements.
 */

type Json = Record<string, unknown>;

/** A piece of the page: text, or an element with attributes and children. */
export type View = string | { tag: string; attrs: Record<string, string>; children: View[] };

export type SchemaDocument = {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components?: { schemas?: Record<string, Json> };
};
type ResponseObject = { description: string; content?: Record<string, { schema?: Json }> };

export const h = (tag: string, attrs: Record<string, string> = {}, ...children: View[]): View => ({
  tag,
  attrs,
  children,
});

/** The id of a component's entry on the page. */
export const schemaAnchor = (name: string): string => `schema-${name}`;

const refName = (ref: string): string => ref.split("/").pop() ?? ref;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The document's descriptions are CommonMark; the only markup they use is `code` spans (and
 * paragraphs, split by the caller). A description is data: nothing in it is parsed as markup.
 */
export function inlineCode(text: string): View[] {
  const parts = text.split("`");
  // An unpaired backtick stays a literal backtick.
  if (parts.length % 2 === 0) return [text];
  return parts.map((part, i) => (i % 2 === 1 ? h("code", {}, part) : part)).filter((part) => part !== "");
}

function joined(alternatives: View[][], separator: string): View[] {
  return alternatives.flatMap((alternative, i) => (i === 0 ? alternative : [separator, ...alternative]));
}

/** The alternatives of a union schema (oneOf, anyOf, or a list of types), or undefined. */
function alternativesOf(schema: Json): Json[] | undefined {
  const union = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(union)) return union.filter(isObject);
  if (Array.isArray(schema.type)) return schema.type.map((type) => ({ ...schema, type }));
  return undefined;
}

/** A schema as a short type expression; each component it names is a link to it. */
export function typeExpression(schema: unknown): View[] {
  if (!isObject(schema) || Object.keys(schema).length === 0) return ["any"];
  if (typeof schema.$ref === "string") {
    const name = refName(schema.$ref);
    return [h("a", { href: `#${schemaAnchor(name)}`, class: "schema-ref" }, name)];
  }
  if ("const" in schema) return [h("code", {}, JSON.stringify(schema.const))];
  if (Array.isArray(schema.enum)) {
    return joined(
      schema.enum.map((value) => [h("code", {}, JSON.stringify(value))]),
      " | ",
    );
  }
  const alternatives = alternativesOf(schema);
  if (alternatives) return joined(alternatives.map(typeExpression), " | ");
  if (schema.type === "array") {
    const item = typeExpression(schema.items);
    return isObject(schema.items) && alternativesOf(schema.items) ? ["(", ...item, ")[]"] : [...item, "[]"];
  }
  if (schema.type === "object" && !(isObject(schema.properties) && Object.keys(schema.properties).length > 0)) {
    if (schema.additionalProperties === false) return [h("code", {}, "{}")];
    if (schema.additionalProperties !== undefined) return ["object (any keys)"];
  }
  return [String(schema.type ?? "any")];
}

/** One row of a property table; `depth` > 0 for a property of a nested object. */
export type PropertyRow = { name: string; depth: number; required: boolean; type: View[]; notes: View[] };

/** The object whose properties a row's children are: the schema itself, an array's items, a union's object. */
function nestedObject(schema: Json): { object: Json; suffix: string } | undefined {
  if (isObject(schema.properties)) return { object: schema, suffix: "." };
  if (schema.type === "array" && isObject(schema.items)) {
    const inner = nestedObject(schema.items);
    return inner ? { object: inner.object, suffix: `[]${inner.suffix}` } : undefined;
  }
  for (const alternative of alternativesOf(schema) ?? []) {
    const inner = nestedObject(alternative);
    if (inner) return inner;
  }
  return undefined;
}

/** What a schema's keywords say beyond its type: ranges, lengths, pattern, format, default. */
function factsOf(schema: Json): string[] {
  const facts: string[] = [];
  if (typeof schema.format === "string") facts.push(`format ${schema.format}`);
  if (typeof schema.pattern === "string") facts.push(`pattern ${schema.pattern}`);
  for (const [key, label] of [
    ["minimum", "≥"],
    ["maximum", "≤"],
    ["minLength", "length ≥"],
    ["maxLength", "length ≤"],
    ["minItems", "items ≥"],
    ["maxItems", "items ≤"],
  ] as const) {
    if (typeof schema[key] === "number") facts.push(`${label} ${schema[key]}`);
  }
  if ("default" in schema) facts.push(`default ${JSON.stringify(schema.default)}`);
  // A union's alternatives say theirs (`expires_in_seconds`: an integer from 30, or null).
  for (const alternative of alternativesOf(schema) ?? [])
    if (alternative !== schema) facts.push(...factsOf(alternative));
  return [...new Set(facts)];
}

function notesOf(schema: Json): View[] {
  const notes: View[] = typeof schema.description === "string" ? inlineCode(schema.description) : [];
  const facts = factsOf(schema);
  if (facts.length > 0) notes.push(`${notes.length > 0 ? "; " : ""}${facts.join("; ")}`);
  return notes;
}

/** The rows of an object schema's property table, nested objects' properties after their parent. */
export function propertyRows(schema: Json, depth = 0, prefix = ""): PropertyRow[] {
  if (!isObject(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties).flatMap(([name, property]) => {
    const prop = isObject(property) ? property : {};
    const row: PropertyRow = {
      name: `${prefix}${name}`,
      depth,
      required: required.has(name),
      type: typeExpression(prop),
      notes: notesOf(prop),
    };
    const nested = typeof prop.$ref === "string" ? undefined : nestedObject(prop);
    return [row, ...(nested ? propertyRows(nested.object, depth + 1, `${prefix}${name}${nested.suffix}`) : [])];
  });
}

/** A property table, or nothing for a schema without properties of its own (a reference, a union). */
export function schemaTable(schema: Json): View[] {
  const nested = typeof schema.$ref === "string" ? undefined : nestedObject(schema);
  if (!nested) return [];
  const rows = propertyRows(nested.object, 0, nested.suffix === "." ? "" : nested.suffix.slice(0, -1));
  if (rows.length === 0) return [];
  return [
    h(
      "table",
      { class: "schema" },
      h(
        "thead",
        {},
        h("tr", {}, ...["property", "type", "required", "notes"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h(
        "tbody",
        {},
        ...rows.map((row) =>
          h(
            "tr",
            row.depth > 0 ? { class: `depth-${Math.min(row.depth, 3)}` } : {},
            h("td", {}, h("code", {}, row.name)),
            h("td", {}, ...row.type),
            h("td", {}, row.required ? "yes" : "no"),
            h("td", {}, ...row.notes),
          ),
        ),
      ),
    ),
  ];
}

/** The JSON body schema of a response, if it has one. */
export const bodySchema = (response: ResponseObject): Json | undefined =>
  response.content?.["application/json"]?.schema;

/** One response of an operation: status, description, and the body's type (and table, when inline). */
export function responseItem(status: string, response: ResponseObject): View {
  const schema = bodySchema(response);
  const union = schema && !schema.$ref ? alternativesOf(schema) : undefined;
  return h(
    "li",
    {},
    h("strong", {}, status),
    " ",
    ...inlineCode(response.description),
    ...(schema
      ? [
          h("div", { class: "body-type" }, union ? "Body, one of: " : "Body: ", ...typeExpression(schema)),
          ...schemaTable(schema),
        ]
      : []),
  );
}

/** Every component schema named by a `$ref` anywhere in `value`. */
export function referencedSchemas(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencedSchemas(item, found);
  else if (isObject(value)) {
    if (typeof value.$ref === "string" && value.$ref.startsWith("#/components/schemas/"))
      found.add(refName(value.$ref));
    for (const item of Object.values(value)) referencedSchemas(item, found);
  }
  return found;
}

/** The "Schemas" section: one collapsible entry per component, its type and property table. */
export function componentsSection(doc: SchemaDocument): View {
  const schemas = doc.components?.schemas ?? {};
  return h(
    "section",
    { id: "schemas" },
    h("h2", {}, "Schemas"),
    ...Object.entries(schemas).map(([name, schema]) => {
      const table = schemaTable(schema);
      const description = typeof schema.description === "string" ? [h("p", {}, ...inlineCode(schema.description))] : [];
      return h(
        "details",
        { class: "schema", id: schemaAnchor(name) },
        h("summary", {}, h("code", {}, name), " ", h("span", { class: "muted" }, ...typeExpression(schema))),
        h("div", {}, ...description, ...(table.length > 0 ? table : [h("p", {}, ...typeExpression(schema))])),
      );
    }),
  );
}
