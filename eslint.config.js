import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import n from 'eslint-plugin-n';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.svelte-kit/**',
      '**/build/**',
      '.data/**',
      'docs/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    // Every import is declared in the package.json of the workspace that makes it, so a
    // workspace installed alone (`npm ci --omit=dev -w <workspace>`, as the images do) has
    // what it imports. Unused declarations: knip (`npm run lint`).
    // Frontends: their tsconfig extends SvelteKit's generated one, which this rule cannot
    // read; knip checks their imports.
    files: ['**/*.ts', '**/*.js'],
    ignores: ['frontends/**'],
    plugins: { n },
    settings: { n: { tryExtensions: ['.ts', '.js', '.json'] } },
    rules: {
      'n/no-extraneous-import': 'error',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
);
