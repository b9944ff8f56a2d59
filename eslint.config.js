// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const local = require('./eslint-rules/declared-dependencies');

module.exports = tseslint.config(
  // runtime/receiver/assembly is AssemblyScript (its own types and compiler: npm run build:wasm).
  { ignores: ['node_modules/', 'dist/', 'cdktf.out/', 'coverage/', '.gen/', '.local/', 'runtime/receiver/assembly/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Every imported package is declared: product code in `dependencies`, tests, benchmarks and tooling may use dev ones.
  { plugins: { local }, rules: { 'local/declared-dependencies': 'error' } },
  {
    files: ['test/**', 'bench/**', 'docs/**', 'eslint-rules/**', '*.config.js', 'local/build-wasm.ts'],
    rules: { 'local/declared-dependencies': ['error', { allowDev: true }] },
  },
  // What the function archives bundle: `import { type A } from 'x'` leaves a bare `import 'x'` in the bundle (which the
  // archive's dependency check then refuses); write `import type { A } from 'x'`.
  {
    files: ['runtime/**/*.ts', 'shared/**/*.ts'],
    rules: { '@typescript-eslint/no-import-type-side-effects': 'error' },
  },
  // The pure core: no I/O and no adapter (runtime/core holds the rules; the adapters do the talking).
  {
    files: ['runtime/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:fs', 'node:fs/*', 'fs', 'fs/*'], message: 'runtime/core is pure: no file I/O.' },
            {
              group: [
                'node:http',
                'node:https',
                'node:http2',
                'node:net',
                'node:tls',
                'node:dgram',
                'http',
                'https',
                'net',
              ],
              message: 'runtime/core is pure: no network I/O.',
            },
            { group: ['node:child_process', 'child_process'], message: 'runtime/core is pure: no processes.' },
            { group: ['undici', 'undici/*'], message: 'runtime/core is pure: HTTP belongs in runtime/adapters.' },
            { group: ['@google-cloud/*'], message: 'runtime/core is pure: Google clients belong in runtime/adapters.' },
            { group: ['**/adapters', '**/adapters/**'], message: 'runtime/core must not depend on an adapter.' },
            {
              group: ['**/receiver/*', '**/app', '**/runtime', '**/function'],
              message: 'runtime/core is the bottom layer.',
            },
          ],
        },
      ],
    },
  },
  // The app (runtime/app.ts and the files it composes) sees the outside world through its ports only
  // (runtime/ports.ts); runtime/runtime.ts wires the adapters.
  {
    files: ['runtime/app.ts', 'runtime/app-context.ts', 'runtime/push-handler.ts', 'runtime/probe-handler.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/adapters', '**/adapters/**'], message: 'The app uses ports (./ports), not adapters.' },
            { group: ['undici', 'undici/*', '@google-cloud/*'], message: 'The app uses ports, not clients.' },
            { group: ['node:*'], message: 'The app does no I/O of its own: add a port.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
  },
);
