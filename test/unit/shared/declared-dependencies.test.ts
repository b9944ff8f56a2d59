/**
 * The lint rule `local/declared-dependencies` (eslint-rules/declared-dependencies.js), run through ESLint with the
 * repository's configuration: an import of a package that is installed only by hoisting fails in product code, a
 * devDependency fails in product code but not in tests. The repository itself is held to it by `npm run check`
 * (`eslint .`), which `npm test` runs first.
 */
import { join } from 'node:path';
import { Linter } from 'eslint';

const ROOT = join(__dirname, '..', '..', '..');
// The repository's flat configuration, as `eslint .` reads it (ESLint's own loader needs ESM hooks jest lacks).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require(join(ROOT, 'eslint.config.js')) as Linter.Config[];
const linter = new Linter({ cwd: ROOT, configType: 'flat' });

function problems(code: string, file: string): string[] {
  return linter
    .verify(code, config, { filename: join(ROOT, file) })
    .filter((m) => m.ruleId === 'local/declared-dependencies' || m.fatal)
    .map((m) => m.message);
}

describe('declared dependencies', () => {
  it('fails on a package installed only by hoisting, in every import form', () => {
    // gaxios is in node_modules (a dependency of the Google clients) but not declared by the repository.
    const code = [
      "import { request } from 'gaxios';",
      "export { GaxiosError } from 'gaxios/build/src/common';",
      "export const later = () => import('gaxios');",
      "export const old = require('gaxios');",
      'export { request };',
    ].join('\n');
    const found = problems(code, 'runtime/adapters/example.ts');
    expect(found).toHaveLength(4);
    for (const m of found) expect(m).toMatch(/'gaxios' is imported but not declared in package.json dependencies/);
  });

  it('lets tests, not product code, use devDependencies; built-ins and relative paths are never packages', () => {
    const code =
      "import fc from 'fast-check';\nimport { join } from 'node:path';\nimport { x } from './x';\nexport { fc, join, x };";
    expect(problems(code, 'test/example.test.ts')).toEqual([]);
    expect(problems(code, 'shared/example.ts')).toEqual([
      "'fast-check' is imported but not declared in package.json dependencies: add it (at the version package-lock.json already has) rather than rely on npm hoisting it",
    ]);
  });
});
