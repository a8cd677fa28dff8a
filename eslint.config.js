// Lint: typed rules from typescript-eslint; exhaustive switches over closed unions (STYLE.md §4).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/escape/**/*.js are hostile payloads: data for the sandbox, not project code.
  { ignores: ['node_modules/**', '.airlock-build/**', 'bin/**', 'eslint.config.js', 'test/escape/**/*.js'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-syntax': ['error', { selector: 'Program > VariableDeclaration[kind="let"]', message: 'no module-level mutable state (STYLE.md §7)' }],
    },
  },
  {
    // The console's browser script: plain JS outside the (node-only) TypeScript project, so linted
    // with the rules that need no type information.
    files: ['src/server/console/assets/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
    },
  },
);
