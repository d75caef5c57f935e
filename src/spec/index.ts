export * from './types.ts';
export * from './load.ts';
export * from './runtime.ts';
export * from './home.ts';
export * from './api.ts';
