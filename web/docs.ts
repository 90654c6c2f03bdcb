/**
 * /docs: an interactive reference rendered from /openapi.json, self-hosted (no CDN), so it
 * works offline and under the page's strict Content-Security-Policy. Every operation shows its
 * parameters, request body and responses, and the document's component schemas follow
 * (web/schema-view.ts); every operation has a "Try it" form that calls this gateway with the
 * credential typed at the top.
 */
import type { PageConfig } from "./auth";
import {
  componentsSection,
  inlineCode,
  responseItem,
  type SchemaDocument,
  schemaAnchor,
  schemaTable,
  typeExpression,
  type View,
} from "./schema-view";

type Json = Record<string, unknown>;
type Parameter = { name: string; in: "query" | "path"; required: boolean; schema: Json };
type Operation = {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  parameters: Parameter[];
  requestBody?: { required: boolean; content: { "application/json": { schema: Json } } };
  responses: Record<string, { description: string; content?: { "application/json": { schema: Json } } }>;
  security?: Json[];
};
type Document = SchemaDocument & {
  info: { title: string; description: string };
  paths: Record<string, Record<string, Operation>>;
};

const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

const credential = document.getElementById("credential") as HTMLInputElement;
const errorBox = document.getElementById("error") as HTMLDivElement;
const CREDENTIAL_KEY = "docs.credential";

/** A piece of web/schema-view.ts as DOM nodes: text nodes and elements, never parsed HTML. */
function render(view: View): Node {
  if (typeof view === "string") return document.createTextNode(view);
  const node = document.createElement(view.tag);
  for (const [name, value] of Object.entries(view.attrs)) node.setAttribute(name, value);
  node.append(...view.children.map(render));
  return node;
}

/** Text with its `code` spans as <code> (schema-view.ts's inlineCode). */
const inlineMarkdown = (text: string): Node[] => inlineCode(text).map(render);

/** Paragraphs (blank-line separated), each with its code spans. */
function paragraphs(text: string, className?: string): HTMLParagraphElement[] {
  return text
    .split(/\n\s*\n/)
    .map((chunk) => chunk.trim())
    .filter(Boolean)
    .map((chunk) => el("p", className ? { className } : {}, ...inlineMarkdown(chunk.replace(/\s*\n\s*/g, " "))));
}

/** The allowed values of an enumerated parameter, or undefined. */
const enumValues = (schema: Json): string[] | undefined =>
  Array.isArray(schema.enum) ? schema.enum.map(String) : undefined;

/** A parameter's schema: its type (an enumeration's values), and its pattern if it has one. */
function describeSchema(schema: Json): Node[] {
  const pattern = typeof schema.pattern === "string" ? [`; pattern ${schema.pattern}`] : [];
  return [...typeExpression(schema), ...pattern].map(render);
}

/** A starting body for the form: required properties with a placeholder each. */
function exampleBody(schema: Json | undefined): string {
  const properties = (schema?.properties ?? {}) as Record<string, Json>;
  const required = (schema?.required ?? []) as string[];
  const example: Json = {};
  for (const name of required) example[name] = properties[name]?.type === "integer" ? 0 : "";
  return JSON.stringify(example, null, 2);
}

function operationView(method: string, path: string, op: Operation): HTMLElement {
  const id = op.operationId;
  const body = el("div");
  body.append(...paragraphs(op.description ?? ""));

  if (op.parameters.length > 0) {
    const rows = op.parameters.map((p) =>
      el(
        "tr",
        {},
        el("td", {}, el("code", { textContent: p.name })),
        el("td", { textContent: p.in }),
        el("td", { textContent: p.required ? "yes" : "no" }),
        el("td", {}, ...describeSchema(p.schema)),
      ),
    );
    body.append(
      el("h4", { textContent: "Parameters" }),
      el(
        "table",
        {},
        el(
          "thead",
          {},
          el("tr", {}, ...["name", "in", "required", "schema"].map((h) => el("th", { scope: "col", textContent: h }))),
        ),
        el("tbody", {}, ...rows),
      ),
    );
  }
  const requestSchema = op.requestBody?.content["application/json"].schema;
  if (requestSchema) {
    const table = schemaTable(requestSchema);
    body.append(
      el("h4", { textContent: "Request body (application/json)" }),
      ...(table.length > 0 ? table : typeExpression(requestSchema)).map(render),
    );
  }
  body.append(
    el("h4", { textContent: "Responses" }),
    el(
      "ul",
      { className: "responses" },
      ...Object.entries(op.responses).map(([status, r]) => render(responseItem(status, r))),
    ),
  );

  // Try it.
  const form = el("form", { className: "try" });
  const inputs = new Map<Parameter, HTMLInputElement | HTMLSelectElement>();
  for (const p of op.parameters) {
    const options = { id: `${id}-${p.name}`, name: p.name, required: p.in === "path" || p.required };
    const values = enumValues(p.schema);
    // An enumerated parameter is a choice, not free text; "not sent" is a choice too when it is optional.
    const input = values
      ? el(
          "select",
          options,
          ...(options.required ? [] : [el("option", { value: "", textContent: "(not sent)" })]),
          ...values.map((value) => el("option", { value, textContent: value })),
        )
      : el("input", options);
    inputs.set(p, input);
    form.append(el("label", { htmlFor: input.id, textContent: `${p.name} (${p.in})` }), input);
  }
  let bodyInput: HTMLTextAreaElement | undefined;
  if (requestSchema) {
    bodyInput = el("textarea", { id: `${id}-body`, rows: 4, value: exampleBody(requestSchema) });
    form.append(el("label", { htmlFor: bodyInput.id, textContent: "Body (JSON)" }), bodyInput);
  }
  const output = el("pre", { hidden: true });
  output.setAttribute("aria-live", "polite");
  form.append(
    el("div", { className: "row" }, el("button", { type: "submit", textContent: `Send ${method.toUpperCase()}` })),
    output,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    for (const [p, input] of inputs) {
      if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(input.value));
      else if (input.value !== "") query.set(p.name, input.value);
    }
    const headers = new Headers();
    if (credential.value.trim()) headers.set("Authorization", `Bearer ${credential.value.trim()}`);
    if (bodyInput) headers.set("Content-Type", "application/json");
    output.hidden = false;
    output.textContent = "…";
    try {
      const response = await fetch(`${url}${query.size ? `?${query}` : ""}`, {
        method: method.toUpperCase(),
        headers,
        ...(bodyInput ? { body: bodyInput.value } : {}),
      });
      const text = await response.text();
      let pretty = text;
      try {
        pretty = JSON.stringify(JSON.parse(text), null, 2);
      } catch {}
      const cache = response.headers.get("X-Cache");
      output.textContent = `HTTP ${response.status}${cache ? `  X-Cache: ${cache}` : ""}\n\n${pretty}`;
    } catch (error) {
      output.textContent = `Request failed: ${String(error)}`;
    }
  });
  body.append(el("h4", { textContent: "Try it" }), form);

  const summary = el(
    "summary",
    {},
    el("span", { className: `method ${method}`, textContent: method.toUpperCase() }),
    el("code", { className: "path", textContent: path }),
    el("span", { textContent: op.summary }),
  );
  const details = el("details", { className: "op", id }, summary, body);
  return details;
}

async function start() {
  credential.value = sessionStorage.getItem(CREDENTIAL_KEY) ?? "";
  credential.addEventListener("change", () => sessionStorage.setItem(CREDENTIAL_KEY, credential.value.trim()));
  const doc = (await fetch("/openapi.json").then((r) => r.json())) as Document;
  (document.getElementById("intro") as HTMLParagraphElement).replaceWith(...paragraphs(doc.info.description, "intro"));
  const byTag = new Map<string, HTMLElement[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags[0] ?? "Other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationView(method, path, op)]);
    }
  }
  const container = document.getElementById("operations") as HTMLDivElement;
  for (const [tag, views] of byTag) container.append(el("section", {}, el("h2", { textContent: tag }), ...views));
  container.append(render(componentsSection(doc)));
  // A link to a component opens its entry (then the browser scrolls to it), as does a URL naming one.
  const openSchema = (hash: string) => {
    const target = hash.startsWith(`#${schemaAnchor("")}`) ? document.getElementById(hash.slice(1)) : null;
    if (target?.tagName === "DETAILS") target.setAttribute("open", "");
  };
  container.addEventListener("click", (event) => {
    const link = (event.target as Element).closest("a.schema-ref");
    if (link) openSchema(link.getAttribute("href") ?? "");
  });
  openSchema(location.hash);
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();

  const config = (await fetch("/devices/config.json").then((r) => r.json())) as PageConfig;
  const note = document.getElementById("credential-note") as HTMLParagraphElement;
  if (config.mode === "emulator") {
    const button = document.getElementById("dev-token") as HTMLButtonElement;
    button.hidden = false;
    note.textContent = "Tokens live 60 seconds. The local service key is in emulator/gateway.dev.vars.";
    button.addEventListener("click", async () => {
      const response = await fetch(`${config.emulator_url}/__dev/sign_in`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice", origin: location.origin }),
      });
      const { token, session_id } = (await response.json()) as { token: string; session_id: string };
      credential.value = token;
      sessionStorage.setItem(CREDENTIAL_KEY, token);
      note.textContent = `Signed in as alice: session ${session_id}. Tokens live 60 seconds.`;
    });
  } else {
    note.textContent = "In a signed-in page: await Clerk.session.getToken().";
  }
}

start().catch((error) => {
  errorBox.textContent = `The reference could not be loaded: ${String(error)}`;
  errorBox.hidden = false;
});
