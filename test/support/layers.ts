import { posix } from 'node:path';
import ts from 'typescript';

/**
 * The layers of src/ and the imports allowed between them (docs/DESIGN.md, "Layers").
 * Every file of src/ belongs to exactly one component; a relative import (static, dynamic,
 * `export … from`, `import type`, `import('…').T`) may only point at a component its own
 * component lists. Type-only imports count: a type is a dependency on the module that
 * declares it, and moving the type is what keeps the layers honest.
 *
 *   domain ← commands, projections, queries ← registry (and its HTTP twin, remote) ← service ← cli
 *   store: the port (port.ts, read-model-tables.ts) is what the layers above see; adapters
 *   share store/shared.ts and store/tables-shared.ts, never each other's files.
 */
export const components = [
  'domain',
  'store-port',
  'store-shared',
  'store-scratch',
  'store-memory',
  'store-sqlite',
  'store-models-file',
  'store-eventstoredb',
  'store-postgres',
  'store-http',
  'store-open',
  'commands',
  'projections',
  'queries',
  'registry',
  'wire',
  'remote',
  'service',
  'cli',
] as const;
export type Component = (typeof components)[number];

/** Which component a src/ path belongs to; undefined for a file nobody has placed yet. */
export const componentOf = (path: string): Component | undefined => {
  const rel = path.replace(/^src\//, '');
  const [top, ...rest] = rel.split('/');
  const file = rest.join('/');
  switch (top) {
    case 'domain':
    case 'commands':
    case 'projections':
    case 'queries':
    case 'cli':
      return top;
    case 'service':
      if (file === 'errors.ts') return 'wire';
      if (file.startsWith('remote-')) return 'remote';
      return 'service';
    case 'index.ts':
    case 'registry':
    case 'registry.ts':
    case 'open-registry.ts':
      return 'registry';
    case 'store':
      if (file === 'port.ts' || file === 'read-model-tables.ts') return 'store-port';
      if (['shared.ts', 'tables-shared.ts', 'event-rows.ts', 'sqlite-options.ts'].includes(file)) {
        return 'store-shared';
      }
      if (file === 'memory-tables.ts') return 'store-scratch';
      if (file === 'open.ts' || file === 'default-store.ts') return 'store-open';
      if (file === 'sqlite-models-file.ts') return 'store-models-file';
      if (/^memory[.-]/.test(file)) return 'store-memory';
      if (/^sqlite[.-]/.test(file)) return 'store-sqlite';
      if (/^eventstoredb[.-]/.test(file)) return 'store-eventstoredb';
      if (/^postgres[.-]/.test(file)) return 'store-postgres';
      if (/^http[.-]/.test(file)) return 'store-http';
      return undefined;
    default:
      return undefined;
  }
};

const adapter = [
  'store-memory',
  'store-sqlite',
  'store-models-file',
  'store-eventstoredb',
  'store-postgres',
  'store-http',
] as const;
const belowAdapters = ['domain', 'store-port', 'store-shared'] as const;

/** component → the components its files may import (their own always included). */
export const allowed: Record<Component, readonly Component[]> = {
  domain: [],
  'store-port': ['domain'],
  'store-shared': ['domain', 'store-port'],
  // the driverless tables: the memory store's models, and scratch space for a rebuild
  // (verify), an asOf view and EventStoreDB's in-memory models
  'store-scratch': belowAdapters,
  'store-memory': [...belowAdapters, 'store-scratch'],
  'store-sqlite': [...belowAdapters, 'store-scratch'],
  // the SQLite tables in a file of their own, for a store that keeps no models
  'store-models-file': [...belowAdapters, 'store-scratch', 'store-sqlite'],
  'store-eventstoredb': [...belowAdapters, 'store-scratch'],
  'store-postgres': [...belowAdapters, 'store-scratch'],
  'store-http': [...belowAdapters, 'store-scratch'],
  // the factory from a URL to an adapter (adapters only by dynamic import, see below)
  'store-open': [...belowAdapters, ...adapter],
  // commands decide on the fold of their streams: the domain and the store port, nothing
  // the read side builds (the handler writes snapshots through the tables port)
  commands: ['domain', 'store-port'],
  projections: ['domain', 'store-port', 'store-scratch'],
  // queries read what the projections build, and fold the log through them (asOf, verify)
  queries: ['domain', 'store-port', 'store-scratch', 'projections'],
  registry: [
    'domain',
    'store-port',
    'store-scratch',
    'store-open',
    'store-models-file',
    'commands',
    'projections',
    'queries',
    'remote',
  ],
  // the HTTP wire's error mapping (codes ↔ statuses), shared by the service and its client
  wire: ['domain'],
  // the ProcessRegistry over HTTP: a registry of its own, with the registry's types; the
  // registry opens it (by import()) for an http(s):// URL
  remote: ['domain', 'store-port', 'commands', 'projections', 'queries', 'registry', 'wire'],
  // the HTTP service serves a registry; it parses requests with the queries' schemas too
  service: ['domain', 'store-port', 'store-open', 'queries', 'registry', 'wire'],
  cli: ['domain', 'store-port', 'store-open', 'registry', 'service'],
};

/**
 * Packages with native code, a network client or a server: each may be imported only by its
 * adapter (the models file is SQLite too) or the service, so opening one store never loads
 * another's, and nothing but `procreg serve` loads the HTTP stack.
 */
export const drivers: Record<string, readonly Component[]> = {
  'better-sqlite3': ['store-sqlite', 'store-models-file'],
  '@eventstore/db-client': ['store-eventstoredb'],
  pg: ['store-postgres'],
  hono: ['service'],
  '@hono/node-server': ['service'],
  pino: ['service'],
  'prom-client': ['service'],
};

/**
 * Components loaded only when a URL names them (the adapters, the HTTP client) or a command
 * runs them (the service): the rest of src/ reaches them by `import()` (or for types only);
 * among themselves static imports are fine (already loaded on demand).
 */
export const lazy: readonly Component[] = [
  ...adapter.filter((c) => c !== 'store-memory'),
  'remote',
  'service',
];

export interface ImportEdge {
  from: string;
  specifier: string;
  line: number;
  kind: 'static' | 'type' | 'dynamic';
}

/** Every import of one file: static, `export … from`, type-only, `import()` and `import('…').T`. */
export const importsOf = (path: string, text: string): ImportEdge[] => {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, kind: ImportEdge['kind']) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    edges.push({ from: path, specifier: specifier.text, line, kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      // `import { type A }` is not erased under verbatimModuleSyntax: it still loads the module
      const typeOnly = node.importClause?.isTypeOnly === true;
      add(node, node.moduleSpecifier, typeOnly ? 'type' : 'static');
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly ? 'type' : 'static');
    } else if (ts.isImportEqualsDeclaration(node)) {
      const ref = node.moduleReference;
      if (ts.isExternalModuleReference(ref)) add(node, ref.expression, 'static');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], 'dynamic');
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(node, arg.literal, 'type');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
};

/** A relative specifier resolved against its file, as a path from the repository root. */
const resolve = (from: string, specifier: string): string =>
  posix.normalize(posix.join(posix.dirname(from), specifier));

/** What is wrong with one file's imports (empty when it keeps to the layers). */
export const violationsOf = (path: string, text: string): string[] => {
  const own = componentOf(path);
  if (!own) {
    return [`${path}: not in any layer; place it in test/support/layers.ts (componentOf)`];
  }
  const problems: string[] = [];
  for (const edge of importsOf(path, text)) {
    const where = `${path}:${edge.line}`;
    if (!edge.specifier.startsWith('.')) {
      const name = edge.specifier.startsWith('@')
        ? edge.specifier.split('/').slice(0, 2).join('/')
        : edge.specifier.split('/')[0]!;
      const owners = drivers[name];
      if (owners && !owners.includes(own) && edge.kind !== 'type') {
        problems.push(`${where}: ${own} imports the driver ${name}; only ${owners.join(', ')} may`);
      }
      continue;
    }
    const target = resolve(path, edge.specifier);
    const theirs = componentOf(target);
    if (!theirs) {
      problems.push(`${where}: imports ${target}, which is outside every layer`);
      continue;
    }
    if (theirs === own) continue;
    if (!allowed[own].includes(theirs)) {
      problems.push(
        `${where}: ${own} must not import ${theirs} (${target}); ${own} may import ${
          allowed[own].join(', ') || 'nothing outside itself'
        }`,
      );
    } else if (lazy.includes(theirs) && !lazy.includes(own) && edge.kind === 'static') {
      problems.push(
        `${where}: ${target} loads on demand (a store driver's adapter, the HTTP client, the service); reach it with import() when it is needed`,
      );
    }
  }
  return problems;
};
