export { buildProgram, runCli } from './program.ts';
export { processIo } from './io.ts';
export type { Io } from './io.ts';
export { CliError } from './control-plane.ts';
