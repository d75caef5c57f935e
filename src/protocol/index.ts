export * from './errors.ts';
export * from './seldon.ts';
export * from './body.ts';
export * from './json-depth.ts';
export * from './json-lossless.ts';
export * from './multipart.ts';
export * from './cloudevents.ts';
export * from './cloudevents-display.ts';
