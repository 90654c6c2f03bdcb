/**
 * `npm run check:cycles`: the gateway's modules (and the emulator's) form no import cycle,
 * type-only imports included, so any module can be lifted into a package on its own.
 */
module.exports = {
  forbidden: [
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
