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
  // Layering (docs/ARCHITECTURE.md): a service's domain/ holds its rules and ports and never
  // reaches for an adapter or a transport; main.ts wires them together.
  {
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/transport/**', '**/main.ts', '**/index.ts'],
              message:
                'domain/ may import only domain/, contracts and runtime: take the adapter through a port instead',
            },
          ],
        },
      ],
    },
  },
  // The apps see the backend only through the wire contracts and the shared chat client.
  {
    files: ['frontends/**/*.ts', 'frontends/**/*.svelte', 'frontends/**/*.js'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@parley/*',
                '!@parley/contracts',
                '!@parley/contracts/*',
                '!@parley/chat-client',
                '!@parley/chat-client/*',
              ],
              message:
                'apps import only @parley/contracts and @parley/chat-client from the backend side',
            },
            {
              group: ['**/services/**', '**/packages/**', '**/contracts/src/**'],
              message:
                'apps import only @parley/contracts and @parley/chat-client from the backend side',
            },
          ],
        },
      ],
    },
  },
);
