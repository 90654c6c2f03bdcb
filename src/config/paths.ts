/**
 * Path rules of the identity-aware proxy. Pure functions (no bindings, no errors thrown):
 * src/config/settings.ts parses the settings with them, the dispatcher and the proxy match with them.
 *
 * Matching works on path segments, never on raw string prefixes, so `/public` covers
 * `/public` and `/public/x` but not `/publicity`. The URL parser has already resolved
 * `.`/`..` and `%2e` segments (WHATWG), so `/public/../private` arrives as `/private`;
 * what an origin might still resolve differently is never treated as public, and such a
 * path needs authentication like any other. Doubt fails closed:
 * - an encoded slash, backslash or dot, a NUL, or bad percent-encoding;
 * - a dot segment hidden behind `;` parameters (Tomcat's `..;`);
 * - any `%25`: a second decoding (a proxy, a framework's router, a rewrite rule) turns
 *   `%252e%252e` into `%2e%2e` and then into `..`;
 * - a non-ASCII look-alike of `.`, `/` or `\` (fullwidth `．`, `／`, one-dot leader, division
 *   slash…), which servers that normalise Unicode (NFKC, or best-fit mappings to ASCII)
 *   read as the real character.
 */

/** One setting entry or base path: `/seg(/seg)*`, unreserved characters only. */
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** `/a/b/` → ["a", "b"]; null for anything that is not a clean absolute path. */
export function parsePrefix(value: string): string[] | null {
  const trimmed = value.trim();
  if (!trimmed.startsWith("/")) return null;
  const segments = trimmed.replace(/\/+$/, "").split("/").slice(1);
  if (segments.length === 0) return null;
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || segment === "." || segment === "..") return null;
  }
  return segments;
}

/**
 * Characters some server reads as `.`, `/` or `\` although they are not: NFKC maps most of
 * them (checked below); these have no NFKC mapping but are mapped by best-fit code pages or
 * look-alike folding (division and fraction slashes, set minus, ideographic full stops).
 */
const LOOK_ALIKES =
  /[\u2044\u2215\u2216\u29f5\u29f8\u29f9\u3002\uff61\u2024\u2025\u2026\ufe52\uff0e\uff0f\uff3c\ufe68]/;

const separatorsAndDots = (value: string) => value.replace(/[^/\\.]/g, "").length;

/**
 * The request path as segments an origin would agree on, or null when some segment could
 * be read two ways (see the module comment). The leading empty segment is dropped; a
 * trailing slash keeps an empty last segment, which never matches a prefix segment on its own.
 */
export function unambiguousSegments(pathname: string): string[] | null {
  if (!pathname.startsWith("/")) return null;
  // A second decoding could make anything of what follows a `%25`.
  if (/%25/i.test(pathname)) return null;
  const segments = pathname.split("/").slice(1);
  for (const segment of segments) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return null;
    }
    if (/[/\\\0]/.test(decoded)) return null;
    const bare = decoded.split(";")[0] ?? "";
    if (bare === "." || bare === "..") return null;
    if (decoded !== segment && /%2e|%2f|%5c/i.test(segment)) return null;
    // ASCII is read one way; beyond it, a look-alike of a separator or dot is doubt.
    if (/[^\x20-\x7e]/.test(decoded)) {
      if (LOOK_ALIKES.test(decoded)) return null;
      if (separatorsAndDots(decoded.normalize("NFKC")) !== separatorsAndDots(decoded)) return null;
    }
  }
  return segments;
}

/** Whether `segments` starts with `prefix`, segment by segment (case-sensitive: doubt fails closed). */
export function startsWithSegments(segments: readonly string[], prefix: readonly string[]): boolean {
  if (segments.length < prefix.length) return false;
  return prefix.every((part, index) => segments[index] === part);
}

/** A request path is public when it unambiguously starts with one of the configured prefixes. */
export function isPublicPath(pathname: string, publicPaths: readonly (readonly string[])[]): boolean {
  if (publicPaths.length === 0) return false;
  const segments = unambiguousSegments(pathname);
  if (!segments) return false;
  return publicPaths.some((prefix) => startsWithSegments(segments, prefix));
}

/**
 * The rest of `pathname` after `base` (segment-wise), always starting with `/`; null when
 * the path is not under `base`. `/clerk` → `/`, `/clerk/v1/x` → `/v1/x`, `/clerkish` → null.
 */
export function stripBasePath(pathname: string, base: readonly string[]): string | null {
  const segments = pathname.split("/").slice(1);
  if (!startsWithSegments(segments, base)) return null;
  return `/${segments.slice(base.length).join("/")}`;
}
