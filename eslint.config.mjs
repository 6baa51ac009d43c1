// The linter, with type information (typescript-eslint): rules that catch bugs the compiler lets through — promises
// nobody awaits or that are passed where a callback's result is ignored, switches that miss a case of a union,
// assertions and union members that say nothing — rather than matters of taste (the formatter owns layout).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'corpus/default/**', 'test/fixtures/**', 'test/.artifacts/**', 'bench/.work/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    // Each file is checked with the first project that holds it: the code with its build's strict settings
    // (tsconfig.json), tests and configs with tsconfig.check.json's.
    languageOptions: { parserOptions: { project: ['./tsconfig.json', './tsconfig.check.json'], tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // Rethrowing what a catch caught (unknown) is fine; throwing a string or a plain object is not.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-duplicate-type-constituents': 'error',
    },
  },
);
