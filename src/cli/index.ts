export { buildProgram, runCli, processIo } from './program.ts';
export type { Io } from './program.ts';
export { CliError } from './control-plane.ts';
