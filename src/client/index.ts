export * from './client.ts';
export * from './control-plane.ts';
