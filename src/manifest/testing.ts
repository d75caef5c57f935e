/** The manifest module's face for tests: the Runtime contract suite every runtime passes. */
export * from './runtime-contract.ts';
