// @ts-check
/**
 * ESLint rule `local/declared-dependencies`: every package a file imports (import, export … from, import(), require,
 * `import x = require()`) must be declared in the repository's package.json: in `dependencies` for product code, or
 * also in `devDependencies` where the rule's `allowDev` option says so (tests, benchmarks, configuration). A package
 * that works only because npm hoisted it beside another is one a fresh install or a version bump can take away.
 */
const { builtinModules } = require('node:module');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
const devDependencies = new Set(Object.keys(pkg.devDependencies ?? {}));
const builtins = new Set(builtinModules);

/** The package a module specifier names ('@scope/name' or 'name'), or undefined for relative paths and built-ins. */
function packageOf(specifier) {
  if (typeof specifier !== 'string' || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  if (specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtins.has(name) ? undefined : name;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports must name packages declared in package.json' },
    schema: [{ type: 'object', properties: { allowDev: { type: 'boolean' } }, additionalProperties: false }],
    messages: {
      undeclared:
        "'{{name}}' is imported but not declared in package.json {{where}}: add it (at the version package-lock.json " +
        'already has) rather than rely on npm hoisting it',
    },
  },
  create(context) {
    const allowDev = Boolean(context.options[0]?.allowDev);
    const check = (node, source) => {
      const name = packageOf(source);
      if (!name || dependencies.has(name) || (allowDev && devDependencies.has(name))) return;
      context.report({
        node,
        messageId: 'undeclared',
        data: { name, where: allowDev ? 'dependencies or devDependencies' : 'dependencies' },
      });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
      CallExpression: (node) => {
        const [arg] = node.arguments;
        const isRequire =
          node.callee.type === 'Identifier' && node.callee.name === 'require' && arg && arg.type === 'Literal';
        const isResolve =
          node.callee.type === 'MemberExpression' &&
          node.callee.object.type === 'Identifier' &&
          node.callee.object.name === 'require' &&
          arg &&
          arg.type === 'Literal';
        if (isRequire || isResolve) check(node, arg.value);
      },
      // TypeScript's `import x = require('y')`.
      TSExternalModuleReference: (node) => check(node, node.expression.value),
    };
  },
};

module.exports = { rules: { 'declared-dependencies': rule } };
