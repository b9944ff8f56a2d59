// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const local = require('./eslint-rules/declared-dependencies');

module.exports = tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdktf.out/', 'coverage/', '.gen/', '.local/'] },
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
    files: ['test/**', 'bench/**', 'docs/**', 'eslint-rules/**', '*.config.js'],
    rules: { 'local/declared-dependencies': ['error', { allowDev: true }] },
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
