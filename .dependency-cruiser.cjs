/**
 * `npm run check:cycles`: the gateway's modules (and the emulator's) form no import cycle,
 * type-only imports included, so any module can be lifted into a package on its own; and
 * src/ is a house in layers, each folder importing only the folders below it.
 *
 * The layers, lowest first (README, "How the code is laid out"):
 *   core        clock, ids, errors, isolate memory, single flight, log: imports nothing from src/
 *   clerk       Clerk's shapes and its Backend API client
 *   config      the settings table and its parsers
 *   storage     KV: its schema, the write coalescer, the JWKS store
 *   revocation  the revocation authority (Durable Object, markers, webhook claims)
 *   auth        framework-free authentication: token policy, the one engine
 *   sessions    the cached session list and the operations on it
 *   http        Hono plumbing: app env, request log, body limit, validation, limits, auth middleware
 *   api         the gateway's routes and rules
 *   proxy       the identity-aware proxy and the front door
 *   hono        the published middleware and the mountable gateway
 * Files at src/'s top are entries (index.ts, package.ts, openapi-document.ts) and may import any.
 */
const LAYERS = ["core", "clerk", "config", "storage", "revocation", "auth", "sessions", "http", "api", "proxy", "hono"];

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ sits below ${LAYERS.slice(index + 1).join(", ")}: it may not import them.`,
  severity: "error",
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(index + 1).join("|")}|[^/]+\\.ts$)` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "layers-only",
      comment: "Every module of src/ lives in a layer's folder, or is one of the three entries.",
      severity: "error",
      from: {},
      to: { path: "^src/", pathNot: `^src/((${LAYERS.join("|")})/|(index|package|openapi-document)\\.ts$)` },
    },
    {
      name: "no-circular",
      comment: "An import cycle, type-only imports included.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "emulator-stands-alone",
      comment: "The Clerk emulator restates Clerk's behaviour; it never borrows the gateway's code.",
      severity: "error",
      from: { path: "^emulator/" },
      to: { path: "^src/" },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
  },
};
