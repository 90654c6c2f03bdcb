/**
 * Dependencies whose published sourcemaps name sources the package does not ship
 * (standardwebhooks' dist/*.js.map point to its src/*.ts). Vite reads the map of every module it
 * loads and warns once per project ("Sourcemap for … points to missing source files"): three
 * lines of noise in every run, about a map nobody here could use.
 */
import { readFile } from "node:fs/promises";

const PACKAGES = ["standardwebhooks"];
const FILE = new RegExp(`/node_modules/(?:${PACKAGES.join("|")})/dist/[^?]*\\.js$`);
const MAP_COMMENT = /^\/\/# sourceMappingURL=.*$/gm;

/**
 * A Vite plugin: loads those packages' files without their sourcemap comment, so Vite never
 * looks for the map. (JavaScript with a declaration file: it reads files, and the repository's
 * type-check has no Node types.)
 * @returns {import("vite").Plugin}
 */
export function withoutDanglingSourcemaps() {
  return {
    name: "without-dangling-sourcemaps",
    enforce: "pre",
    async load(id) {
      if (!FILE.test(id)) return null;
      return { code: (await readFile(id, "utf8")).replace(MAP_COMMENT, ""), map: null };
    },
  };
}
