/**
 * The import rules of docs/architecture.md ("What may import what"), checked against the code: the test reads the
 * rules table from the page and every import of every product file (static imports and re-exports, `require`,
 * dynamic `import()`), so that the page and the code cannot disagree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..', '..');
/**
 * Every top-level folder of product code: all but these. `connectors/` (the team's definitions, user data) is read by
 * no test; `eslint-rules/` is the linter's.
 */
const NOT_PRODUCT = new Set(['test', 'connectors', 'eslint-rules', 'node_modules', 'cdktf.out', 'dist', 'coverage']);
const PRODUCT_FOLDERS = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('.') && !NOT_PRODUCT.has(d.name))
  .map((d) => d.name);

interface Rule {
  readonly from: string;
  readonly allowed: readonly { readonly place: string; readonly typesOnly: boolean }[];
}

/** The rows between the `import-rules` markers of docs/architecture.md. */
function readRules(): Rule[] {
  const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const block = /<!-- import-rules[^>]*-->([\s\S]*?)<!-- \/import-rules -->/.exec(page)?.[1];
  if (!block) throw new Error('docs/architecture.md has no import-rules table');
  return block
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [from, allowed] = line
        .split('|')
        .slice(1, 3)
        .map((c) => c.trim());
      return {
        from: from!.replace(/`/g, ''),
        allowed: allowed!.split(/,\s*/).map((entry) => ({
          place: /`([^`]+)`/.exec(entry)![1]!,
          typesOnly: entry.includes('(types)'),
        })),
      };
    });
}

function productFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return name === 'node_modules' ? [] : productFiles(path);
    return /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Import {
  readonly specifier: string;
  readonly typeOnly: boolean;
  readonly line: number;
}

/** Every relative module specifier of a file, and whether it brings types only. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (specifier && ts.isStringLiteralLike(specifier) && specifier.text.startsWith('.')) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push({ specifier: specifier.text, typeOnly, line });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const namedTypes =
        clause?.namedBindings &&
        ts.isNamedImports(clause.namedBindings) &&
        clause.namedBindings.elements.length > 0 &&
        !clause.name &&
        clause.namedBindings.elements.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, Boolean(clause?.isTypeOnly || namedTypes));
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(node, arg.literal as ts.Expression, true);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isRequire || callee.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Whether `path` (a file, relative to the root) lies in `place` (a folder ending in `/`, or a file). */
const within = (path: string, place: string) =>
  place.endsWith('/')
    ? path.startsWith(place)
    : path === place || path.replace(/\.(ts|js)$/, '') === place.replace(/\.ts$/, '');

/** The target file of a specifier (`./x` → `x.ts` or `x/index.ts`), relative to the root. */
function resolveTarget(file: string, specifier: string): string {
  const base = normalize(join(dirname(file), specifier));
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts'), `${base}.js`]) {
    try {
      if (statSync(join(ROOT, candidate)).isFile()) return relative(ROOT, join(ROOT, candidate));
    } catch {
      /* not this one */
    }
  }
  return base;
}

const rules = readRules();
const ruleOf = (file: string) =>
  rules.filter((r) => within(file, r.from)).sort((a, b) => b.from.length - a.from.length)[0];
const files = PRODUCT_FOLDERS.flatMap(productFiles).map((f) => f.split('\\').join('/'));

describe('docs/architecture.md import rules', () => {
  it('reads a table that names every product folder', () => {
    expect(rules.length).toBeGreaterThanOrEqual(PRODUCT_FOLDERS.length);
    expect(files.length).toBeGreaterThan(100);
  });

  it('covers every product file with a row', () => {
    expect(files.filter((f) => !ruleOf(f))).toEqual([]);
  });

  it('every import of every product file is one its row allows', () => {
    const broken: string[] = [];
    for (const file of files) {
      const rule = ruleOf(file);
      if (!rule) continue;
      for (const imp of importsOf(file)) {
        const target = resolveTarget(file, imp.specifier);
        if (!/\.(ts|js)$/.test(target)) continue; // package.json and other data files are not code
        const ok = rule.allowed.some((a) => within(target, a.place) && (!a.typesOnly || imp.typeOnly));
        if (!ok)
          broken.push(
            `${file}:${imp.line} imports ${target} (${rule.from} may import ${rule.allowed.map((a) => a.place).join(', ')})`,
          );
      }
    }
    expect(broken).toEqual([]);
  });

  it('catches an import against the rules (the check itself can fail)', () => {
    const core = ruleOf('runtime/core/batch.ts')!;
    expect(core.from).toBe('runtime/core/');
    expect(core.allowed.some((a) => within('runtime/adapters/secrets.ts', a.place))).toBe(false);
    const infra = ruleOf('infra/connector/events.ts')!;
    expect(infra.allowed.find((a) => a.place === 'runtime/log.ts')?.typesOnly).toBe(true);
    expect(importsOf('infra/connector/events.ts').find((i) => i.specifier.endsWith('runtime/log'))?.typeOnly).toBe(
      true,
    );
    expect(ruleOf('cli/main.ts')!.allowed.some((a) => within('local/segment-server/index.ts', a.place))).toBe(false);
  });
});

describe('the test tree', () => {
  /** Every file under `test/`, relative to the root. */
  const testFiles = (dir: string): string[] =>
    readdirSync(join(ROOT, dir)).flatMap((name) => {
      const path = `${dir}/${name}`;
      return statSync(join(ROOT, path)).isDirectory() ? testFiles(path) : [path];
    });
  const all = testFiles('test');

  it('every test file lives under test/unit/ or test/integration/, the two places jest runs', () => {
    const tests = all.filter((f) => f.endsWith('.test.ts'));
    expect(tests.filter((f) => f.startsWith('test/unit/')).length).toBeGreaterThan(40);
    expect(tests.filter((f) => f.startsWith('test/integration/')).length).toBeGreaterThan(30);
    expect(tests.filter((f) => !/^test\/(unit|integration)\//.test(f))).toEqual([]);
  });

  it('no unit test starts the emulators or the local Segment server', () => {
    const heavy = /from '[./]*(local\/segment-server|local\/function-host|local\/stack)[^']*'|harness\/global-setup/;
    const offending = all
      .filter((f) => f.startsWith('test/unit/') && f.endsWith('.ts'))
      .filter((f) => heavy.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(offending).toEqual([]);
  });
});
