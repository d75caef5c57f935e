/** Named options with their defaults in one table per module, compiled once at start. */
export { closest, compileOption, defineOptions, describe, OptionError, parseDurationMs, parseSize } from './options.ts';
export type { OptionKind, OptionSection, OptionSpec, OptionTable, OptionValues } from './options.ts';
