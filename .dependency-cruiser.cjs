// @ts-check
/**
 * The layering of src/ as forbidden imports (docs/architecture.md, "Layers"). Arrows point
 * one way: toward protocol, lib and domain; transports (http, sockets) meet only in
 * transport/. `npm run lint:layers` checks it; test/lint/layers.test.ts proves each rule
 * bites on a fixture tree and that src/ breaks none.
 *
 * Paths are relative to the folder cruised from (the repository root), so `^src/domain/`
 * is the domain folder. Only imports between our own files are judged here: packages from
 * node_modules are eslint's and package.json's business.
 */

/** Imports from these folders or files are between our own modules. */
const SRC = "^src/";

/**
 * A rule that `folder` may import from src/ only what `allowed` names (regexp alternatives,
 * folders relative to src/, e.g. "lib/|protocol/").
 * @param {string} name
 * @param {string} comment
 * @param {string} folder
 * @param {string} allowed
 * @returns {import("dependency-cruiser").IForbiddenRuleType}
 */
function importsOnly(name, comment, folder, allowed) {
  return {
    name,
    comment,
    severity: "error",
    from: { path: `^src/${folder}/` },
    to: { path: SRC, pathNot: `^src/(${allowed})` },
  };
}

/**
 * A rule that `folder` must not import any of `banned` (regexp alternatives under src/).
 * @param {string} name
 * @param {string} comment
 * @param {string} folder
 * @param {string} banned
 * @returns {import("dependency-cruiser").IForbiddenRuleType}
 */
function importsNone(name, comment, folder, banned) {
  return {
    name,
    comment,
    severity: "error",
    from: { path: `^src/${folder}/` },
    to: { path: `^src/(${banned})` },
  };
}

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    importsOnly(
      "protocol-imports-nothing-from-src",
      "The wire protocol stands alone (zod only): a client SDK takes it without the server.",
      "protocol",
      "protocol/",
    ),
    importsOnly(
      "lib-imports-only-lib-and-protocol",
      "lib/ holds small shared pieces everyone may use; it must not lean on any layer above it.",
      "lib",
      "lib/|protocol/",
    ),
    importsOnly(
      "domain-imports-only-domain-lib-protocol",
      "The engine is plain code behind ports: no transport, store, database or config module.",
      "domain",
      "domain/|lib/|protocol/",
    ),
    importsOnly(
      "routing-store-imports-only-routing-store-domain-lib",
      "A RoutingStore backend implements the domain's interface with the domain's rules, nothing more.",
      "routing-store",
      "routing-store/|domain/|lib/",
    ),
    importsOnly(
      "db-imports-only-db-and-lib",
      "The database opener and schema sit under the repositories; they know no business rule.",
      "db",
      "db/|lib/",
    ),
    importsNone(
      "repositories-not-auth-or-transports",
      "Repositories are SQL access under auth and the transports: they never call back up.",
      "repositories",
      "auth/|http/|sockets/|transport/|server\\.ts$",
    ),
    importsNone(
      "transport-not-http-or-sockets",
      "transport/ is what REST and sockets share, so it can depend on neither.",
      "transport",
      "http/|sockets/",
    ),
    importsNone(
      "sockets-not-http",
      "The two transports are siblings: what both need lives in transport/.",
      "sockets",
      "http/",
    ),
    importsNone(
      "http-not-sockets",
      "The two transports are siblings: what both need lives in transport/.",
      "http",
      "sockets/",
    ),
    importsNone(
      "cli-not-routes-app-sockets-server",
      "The operator CLI works on the database: it may share request schemas (http/schemas) and presenters, never a running transport.",
      "cli",
      "http/routes/|http/app\\.ts$|sockets/|server\\.ts$",
    ),
    importsOnly(
      "client-imports-only-client-and-protocol",
      "The client SDK (package export ./client) ships alone: socket.io-client and the protocol.",
      "client",
      "client/|protocol/",
    ),
    {
      name: "no-folder-cycle",
      comment: "Folders of src/ depend one way: a cycle between two folders means a back-arrow somewhere.",
      severity: "error",
      scope: "folder",
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: "no-circular",
      comment: "No import cycle between modules, in src, test, bench or examples (type-only imports count).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports are arrows too: a type from http in the domain is still a back-arrow.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
