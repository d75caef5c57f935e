export * from './request-origin.ts';
