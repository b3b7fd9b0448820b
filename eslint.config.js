// Flat config: recommended rules plus the type-aware checks that catch forgotten awaits,
// which matter most in a process that must not lose work.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // pkg/ holds the Debian package build's output and staging (npm run package).
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**', 'pkg/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The CLI entry, tools and benchmarks talk to the terminal on purpose.
    files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
