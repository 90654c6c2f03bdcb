import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPublicPath, parsePrefix, stripBasePath } from "../../src/config/paths";

/**
 * The path rules of the proxy as properties, over paths built from the pieces attacks are
 * made of (dot segments, encoded slashes and dots, `;` parameters, case). A path is public
 * only if every way an origin might read it still starts with a public prefix.
 */
const PUBLIC = [parsePrefix("/public") as string[], parsePrefix("/assets/static") as string[]];

const piece = fc.constantFrom(
  "public",
  "PUBLIC",
  "publicity",
  "assets",
  "static",
  "admin",
  ".",
  "..",
  "%2e%2e",
  ".%2E",
  "..;",
  "public;x=1",
  "%2F",
  "%2f..%2f",
  "%5C",
  "%00",
  "%zz",
  "",
  "a%20b",
);

/** What a lenient origin might make of the path: every segment decoded, `;` params dropped, dot segments resolved. */
function lenientSegments(pathname: string): string[] | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const out: string[] = [];
  for (const raw of decoded.replaceAll("\\", "/").split("/").slice(1)) {
    const segment = raw.split(";")[0] ?? "";
    if (segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return out;
}

describe("public-path matching", () => {
  it("a path judged public is public however an origin resolves it", () => {
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 6 }), (pieces) => {
        // As the runtime hands it over: parsed by the URL parser first.
        const pathname = new URL(`https://gateway.test/${pieces.join("/")}`).pathname;
        if (!isPublicPath(pathname, PUBLIC)) return;
        const lenient = lenientSegments(pathname);
        expect(lenient).not.toBeNull();
        const under = PUBLIC.some((prefix) => prefix.every((part, i) => lenient?.[i] === part));
        expect(under, pathname).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it("prefixes match whole segments only", () => {
    expect(isPublicPath("/public", PUBLIC)).toBe(true);
    expect(isPublicPath("/public/", PUBLIC)).toBe(true);
    expect(isPublicPath("/public/x/y", PUBLIC)).toBe(true);
    expect(isPublicPath("/assets/static/a.js", PUBLIC)).toBe(true);
    expect(isPublicPath("/publicity", PUBLIC)).toBe(false);
    expect(isPublicPath("/assets/staticky", PUBLIC)).toBe(false);
    expect(isPublicPath("/assets", PUBLIC)).toBe(false);
    expect(isPublicPath("/x/public", PUBLIC)).toBe(false);
    expect(isPublicPath("/public", [])).toBe(false);
  });

  it("settings entries are clean absolute paths", () => {
    expect(parsePrefix("/public/")).toEqual(["public"]);
    expect(parsePrefix(" /a/b ")).toEqual(["a", "b"]);
    for (const bad of ["/", "", "public", "/a/../b", "/a/./b", "//a", "/a%2fb", "/a b", "/a;b"]) {
      expect(parsePrefix(bad), bad).toBeNull();
    }
  });

  it("the base path is stripped segment-wise", () => {
    expect(stripBasePath("/clerk", ["clerk"])).toBe("/");
    expect(stripBasePath("/clerk/", ["clerk"])).toBe("/");
    expect(stripBasePath("/clerk/v1/jwks", ["clerk"])).toBe("/v1/jwks");
    expect(stripBasePath("/clerkish/v1", ["clerk"])).toBeNull();
    expect(stripBasePath("/v1/clerk", ["clerk"])).toBeNull();
  });
});
