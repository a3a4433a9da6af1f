/**
 * Dependency rules for src/ (`npm run lint:deps`). Type-only imports are erased at build time,
 * so cycles through them are allowed; a runtime cycle makes module evaluation order matter.
 */
module.exports = {
  forbidden: [
    {
      name: "no-runtime-cycle",
      comment: "A runtime import cycle: break it with `import type`, or move the shared piece to a lower module.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "domain-is-pure",
      comment: "src/domain is plain functions over plain data: it imports nothing of ours outside src/domain (packages are fine).",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { path: "^(src|schema|scripts|test)/", pathNot: "^src/domain/" },
    },
    {
      name: "ledger-not-routes",
      comment: "The ledger sits below the HTTP layer.",
      severity: "error",
      from: { path: "^src/ledger/" },
      to: { path: "^src/routes/" },
    },
    {
      name: "services-not-routes",
      comment: "Services are called by routes, crons and scripts; they never reach back into routes.",
      severity: "error",
      // Known exception: partner events are validated one by one inside the service, with the
      // API's event schemas (which build on the accrual and member bodies of their routes).
      from: { path: "^src/services/", pathNot: "^src/services/partner/events.ts$" },
      to: { path: "^src/routes/" },
    },
  ],
  options: {
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
  },
};
