import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.hangar/**', '.scratch/**', 'eslint.config.js'],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-console': 'error',
      // Route handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Package boundaries (docs/architecture.md): each package imports only those below it.
  ...[
    ['api', ['@hangar/*']],
    ['envd', ['@hangar/control-plane*', '@hangar/runner*', '@hangar/cli*']],
    ['agent', ['@hangar/control-plane*', '@hangar/runner*', '@hangar/envd*', '@hangar/cli*']],
    ['control-plane', ['@hangar/runner*', '@hangar/envd*', '@hangar/cli*']],
    ['runner', ['@hangar/control-plane*', '@hangar/cli*']],
    ['cli', []],
    ['web', ['@hangar/runner*', '@hangar/envd*', '@hangar/cli*', '@hangar/agent*']],
  ].map(([name, forbidden]) => ({
    files: [`packages/${name}/src/**/*.ts`, `packages/${name}/src/**/*.tsx`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidden.map((group) => ({
              group: [group],
              message: `packages/${name} may not import this package (see docs/architecture.md)`,
            })),
            { group: ['../../*/src/*', '../../../packages/*'], message: 'import packages by name' },
          ],
        },
      ],
    },
  })),
  {
    // Tests of the browser's secret sealing open what it seals with the runner's own opener.
    files: ['packages/web/src/**/*.test.ts', 'packages/web/src/**/*.test.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@hangar/runner(?!/secrets/)',
              message: 'packages/web tests may import only @hangar/runner/secrets/* of the runner',
            },
            ...['@hangar/envd*', '@hangar/cli*', '@hangar/agent*'].map((group) => ({
              group: [group],
              message: `packages/web may not import this package (see docs/architecture.md)`,
            })),
            { group: ['../../*/src/*', '../../../packages/*'], message: 'import packages by name' },
          ],
        },
      ],
    },
  },
  {
    // The import resolver cannot load @vitejs/plugin-react (an ESM-only build tool), and a build
    // script imported by nothing cannot be part of a cycle.
    files: ['packages/web/src/tools/build-app.ts'],
    rules: { 'import-x/no-cycle': 'off' },
  },
  {
    files: ['scripts/**/*.mjs', 'packages/cli/bin/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
