import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

// Imports flow one way, as DESIGN.md's module table says: a module imports only those below it.
// `options` (named options and their parsing) sits below everything and imports nothing.
const layers = {
  options: [],
  protocol: ['options'],
  http: ['options', 'protocol'],
  grpc: ['options', 'protocol'],
  manifest: ['options', 'protocol'],
  storage: ['options', 'protocol', 'manifest'],
  component: ['options', 'protocol', 'http', 'grpc'],
  executor: ['options', 'protocol', 'manifest', 'grpc'],
  gateway: ['options', 'protocol', 'http', 'grpc', 'manifest', 'executor'],
  eventing: ['options', 'protocol', 'http', 'manifest'],
  'runtime/local': ['options', 'protocol', 'manifest', 'storage'],
  'runtime/kubernetes': ['options', 'protocol', 'manifest'],
  client: ['options', 'protocol', 'manifest'],
  cli: ['options', 'protocol', 'http', 'manifest', 'client', 'storage'],
  // The dashboard's page runs in a browser: it imports only its libraries (preact, htm, uplot).
  web: [],
};
const all = ['options', 'protocol', 'http', 'grpc', 'manifest', 'storage', 'component', 'executor', 'gateway', 'eventing', 'runtime/local', 'runtime/kubernetes', 'server', 'client', 'cli', 'web'];
const zones = Object.entries(layers).flatMap(([module, allowed]) =>
  all
    .filter((other) => other !== module && !allowed.includes(other) && !other.startsWith(`${module}/`))
    .map((other) => ({ target: `./src/${module}`, from: `./src/${other}`, message: `${module} may import only: ${allowed.join(', ') || 'nothing'} (DESIGN.md §2)` })),
);

// Each module's index.ts is its only face (a test may also use the module's testing.ts, its face for tests).
const modulePath = `(${all.map((m) => m.replace('/', '\\/')).join('|')})`;
const throughFace = (faces) => ({
  regex: `^(\\.\\./)+(src/)?${modulePath}/(?!(${faces.join('|')})\\.ts$)`,
  message: 'import another module only through its index.ts (tests: or testing.ts)',
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'python/**', 'examples/**/*.js', '**/*.mjs', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Cycles are ours to avoid, not our dependencies' (following @azure/msal-common's files crashes the resolver).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-duplicates': 'error',
      'import-x/no-restricted-paths': ['error', { zones }],
      'no-restricted-imports': ['error', { patterns: [throughFace(['index'])] }],
    },
  },
  {
    files: ['**/*.test.ts', '**/testing.ts', '**/*-contract.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': ['error', { patterns: [throughFace(['index', 'testing'])] }],
    },
  },
  {
    // The dashboard's page: browser code, checked against its own tsconfig (DOM, no node).
    files: ['src/web/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './src/web/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
);
