/**
 * The storage module's face for tests outside it (end-to-end tests, benchmarks): the emulators
 * built by .ci/run and how to start them.
 */
export { emulator, freePort, start, type Running } from './providers/cloud-testing.ts';
