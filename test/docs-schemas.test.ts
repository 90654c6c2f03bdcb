import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../src/api/openapi";
import {
  componentsSection,
  referencedSchemas,
  responseItem,
  type SchemaDocument,
  schemaTable,
  type View,
} from "../web/schema-view";

/**
 * /docs shows every response's body and every component schema (web/schema-view.ts builds what
 * web/docs.ts renders), checked here against the document the gateway serves.
 */
type Operation = {
  operationId: string;
  requestBody?: { content: { "application/json": { schema: Record<string, unknown> } } };
  responses: Record<string, { description: string; content?: Record<string, { schema?: Record<string, unknown> }> }>;
};
const doc = buildOpenApiDocument() as SchemaDocument & {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
const operation = (id: string) => {
  const found = operations.find((op) => op.operationId === id);
  if (!found) throw new Error(`no operation ${id}`);
  return found;
};

type Element = Exclude<View, string>;
const text = (view: View): string => (typeof view === "string" ? view : view.children.map(text).join(""));
const all = (view: View, match: (node: Element) => boolean): Element[] =>
  typeof view === "string" ? [] : [...(match(view) ? [view] : []), ...view.children.flatMap((c) => all(c, match))];
const byClass = (view: View, name: string) => all(view, (node) => node.attrs.class?.split(" ").includes(name) ?? false);
const links = (view: View) => all(view, (node) => node.tag === "a").map((a) => a.attrs.href);
/** A table's body rows as [property, type, required, notes] texts. */
const rows = (views: View[]) =>
  views
    .flatMap((view) => all(view, (node) => node.tag === "tbody"))
    .flatMap((tbody) => tbody.children.map((tr) => (typeof tr === "string" ? [] : tr.children.map(text))));

describe("/docs shows response bodies and component schemas", () => {
  it("every response with a body names its type, never a bare arrow", () => {
    let bodies = 0;
    for (const op of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const item = responseItem(status, response);
        expect(text(item), `${op.operationId} ${status}`).not.toMatch(/→\s*$/);
        const [bodyType] = byClass(item, "body-type");
        if (!response.content) {
          expect(bodyType, `${op.operationId} ${status} has no body`).toBeUndefined();
          continue;
        }
        bodies++;
        expect(text(bodyType ?? ""), `${op.operationId} ${status}`).toMatch(/^Body(, one of)?: \S/);
      }
    }
    expect(bodies).toBeGreaterThan(100);
  });

  it("a oneOf body lists its alternatives, each a link to its schema", () => {
    const list = responseItem("200", operation("listSessions").responses["200"]!);
    expect(text(byClass(list, "body-type")[0]!)).toBe("Body, one of: SessionList | PaginatedSessionList");
    expect(links(list)).toEqual(["#schema-SessionList", "#schema-PaginatedSessionList"]);
    const refresh = responseItem("200", operation("refreshSession").responses["200"]!);
    expect(text(byClass(refresh, "body-type")[0]!)).toBe("Body, one of: Token | Cookies");
  });

  it("arrays and references read as types; errors link Clerk's envelope", () => {
    const active = responseItem("200", operation("listMyActiveSessions").responses["200"]!);
    expect(text(byClass(active, "body-type")[0]!)).toBe("Body: FapiActiveSession[]");
    expect(links(active)).toEqual(["#schema-FapiActiveSession"]);
    const denied = responseItem("401", operation("getSession").responses["401"]!);
    expect(links(denied)).toEqual(["#schema-ClerkErrors"]);
  });

  it("an inline body gets its property table", () => {
    const health = responseItem("200", operation("health").responses["200"]!);
    expect(rows([health])).toEqual([["status", '"ok"', "yes", ""]]);
    const jwks = rows([responseItem("200", operation("getJwks").responses["200"]!)]).map(([name]) => name);
    expect(jwks).toEqual(expect.arrayContaining(["keys", "keys[].kid", "keys[].n", "keys[].e"]));
  });

  it("request bodies are tables with what each field takes", () => {
    const create = rows(schemaTable(operation("createSession").requestBody!.content["application/json"].schema));
    expect(create[0]).toEqual(["user_id", "string", "yes", "pattern ^user_[A-Za-z0-9]{16,64}$"]);
    const token = rows(schemaTable(operation("createSessionToken").requestBody!.content["application/json"].schema));
    expect(token).toEqual([["expires_in_seconds", "integer | null", "no", "≥ 30; ≤ 315360000"]]);
  });

  it("every component is shown, and every link on the page has its entry", () => {
    const section = componentsSection(doc);
    const entries = all(section, (node) => node.tag === "details");
    const names = Object.keys(doc.components.schemas);
    expect(entries.map((entry) => entry.attrs.id)).toEqual(names.map((name) => `schema-${name}`));
    for (const name of ["Session", "FapiActiveSession", "SessionActivity", "ClerkErrors", "Token", "Cookies"]) {
      expect(names).toContain(name);
    }
    const referenced = referencedSchemas(doc);
    expect(referenced.size).toBeGreaterThan(5);
    for (const name of referenced) expect(names, `#schema-${name} exists`).toContain(name);
    // Each component's table has one top-level row per property, marked required as the schema says.
    for (const [index, [name, schema]] of Object.entries(doc.components.schemas).entries()) {
      const properties = Object.keys((schema.properties ?? {}) as object);
      const required = new Set((schema.required ?? []) as string[]);
      const table = rows([entries[index]!]).filter(([property]) => !/[.[]/.test(property ?? ""));
      expect(
        table.map(([property, , req]) => `${property}:${req}`),
        name,
      ).toEqual(properties.map((p) => `${p}:${required.has(p) ? "yes" : "no"}`));
    }
  });

  it("a Session's nullable, enumerated and nested fields read as such", () => {
    const session = componentsSection(doc);
    const entry = all(session, (node) => node.attrs.id === "schema-Session")[0]!;
    const table = Object.fromEntries(rows([entry]).map(([name, type, required]) => [name, { type, required }]));
    expect(table.latest_activity?.type).toBe("SessionActivity | null");
    expect(table.last_active_organization_id?.type).toBe("string | null");
    expect(table.tasks?.type).toBe("object[] | null");
    expect(table["tasks[].key"]).toEqual({ type: "string", required: "yes" });
    expect(table.status?.type).toMatch(/^"active" \| "revoked" \| /);
    expect(table.actor?.type).toBe("object (any keys) | null");
    expect(links(entry)).toContain("#schema-SessionActivity");
  });
});
