import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The process layering of DESIGN.md §3, checked from the import graph (VS Code enforces the same kind of rule
 * with a lint over its layers):
 * - core/ is a plain Node library: no electron, no react, nothing from main/, preload/ or renderer/;
 * - renderer/ imports from core/ only types, and only from core/contracts and core/api;
 * - preload/ exposes the API and nothing else: from core/ only types of core/contracts and core/api.
 */
export interface SourceFile {
  /** Repo-relative path with forward slashes, e.g. `core/npz/read.ts`. */
  path: string;
  text: string;
}

export interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

const FORBIDDEN_IN_CORE_PACKAGES = ['electron', 'react', 'react-dom', 'zustand', 'plotly.js'];
const LAYERS = ['core', 'main', 'preload', 'renderer'] as const;
type Layer = (typeof LAYERS)[number];

/** Every module reference in a file: static imports/exports, `import()`, `require()` and `import x = require()`. */
export function collectImports(file: SourceFile): ImportRef[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
  const refs: ImportRef[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const allNamedTypeOnly =
        clause !== undefined &&
        clause.name === undefined &&
        clause.namedBindings !== undefined &&
        ts.isNamedImports(clause.namedBindings) &&
        clause.namedBindings.elements.length > 0 &&
        clause.namedBindings.elements.every((element) => element.isTypeOnly);
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly: Boolean(clause?.isTypeOnly) || allNamedTypeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) refs.push({ specifier: expression.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const [first] = node.arguments;
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isDynamicImport || isRequire) && first && ts.isStringLiteralLike(first)) {
        refs.push({ specifier: first.text, typeOnly: false });
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      refs.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

function layerOf(repoPath: string): Layer | null {
  const top = repoPath.split('/')[0];
  return (LAYERS as readonly string[]).includes(top ?? '') ? (top as Layer) : null;
}

/** The repo-relative target of a relative specifier, or null for a package import. */
function resolveRelative(fromFile: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier));
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

export function findViolations(files: SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    const layer = layerOf(file.path);
    if (!layer) continue;
    for (const ref of collectImports(file)) {
      const target = resolveRelative(file.path, ref.specifier);
      const targetLayer = target === null ? null : layerOf(target);
      const report = (rule: string): void => {
        violations.push({ file: file.path, specifier: ref.specifier, rule });
      };
      if (target !== null && targetLayer === null && !target.startsWith(`${layer}/`)) {
        // a relative path leaving the layers (e.g. into test/) is only fine for tests
        if (!/\.test\.tsx?$/.test(file.path)) report(`${layer}/ must not import outside the layer folders`);
        continue;
      }
      if (layer === 'core') {
        if (target === null && FORBIDDEN_IN_CORE_PACKAGES.includes(packageName(ref.specifier))) {
          report(`core/ must not import ${packageName(ref.specifier)}`);
        } else if (targetLayer !== null && targetLayer !== 'core') {
          report(`core/ must not import from ${targetLayer}/`);
        }
      } else if (layer === 'renderer' || layer === 'preload') {
        if (targetLayer === 'main' || (layer === 'renderer' && targetLayer === 'preload')) {
          report(`${layer}/ must not import from ${targetLayer}/`);
        } else if (targetLayer === 'core') {
          const allowed = target !== null && /^core\/(contracts|api)(\/|$)/.test(target);
          if (!ref.typeOnly || !allowed) report(`${layer}/ may import only types from core/contracts and core/api`);
        }
      }
    }
  }
  return violations;
}

/** All .ts/.tsx/.js/.mjs/.cjs files of the layer folders under a repo root. */
export function loadLayerFiles(repoRoot: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (relativeDir: string): void => {
    for (const entry of readdirSync(path.join(repoRoot, relativeDir), { withFileTypes: true })) {
      const relative = `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(relative);
      } else if (/\.(tsx?|[mc]?js)$/.test(entry.name)) {
        files.push({ path: relative, text: readFileSync(path.join(repoRoot, relative), 'utf8') });
      }
    }
  };
  for (const layer of LAYERS) {
    try {
      walk(layer);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return files;
}
