import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/', 'scripts/', 'bin/', 'test/fixtures/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          // TextDecoder drops a leading byte order mark unless told not to: names, string tensors and
          // request bodies would then read differently than protobuf and the event loop read them.
          selector: "NewExpression[callee.name='TextDecoder']:not(:has(Property[key.name='ignoreBOM']))",
          message: "Decode data with new TextDecoder('utf-8', { ignoreBOM: true }) (or fatal too): the default drops a leading U+FEFF.",
        },
      ],
    },
  },
);
