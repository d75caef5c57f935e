/**
 * Seldon's unit parameters (`PREDICTIVE_UNIT_PARAMETERS`, `--parameters`): a list of
 * `{"name","value","type"}` converted by type into the one object a model's constructor receives.
 */
import { COMPONENT_ENV } from '../protocol/index.ts';
import { HostSetupError } from './errors.ts';

const TRUE = new Set(['y', 'yes', 't', 'true', 'on', '1']);
const FALSE = new Set(['n', 'no', 'f', 'false', 'off', '0']);

function convertParameter(name: string, type: string, value: unknown, where: string): unknown {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const fail = (expected: string): never => {
    throw new HostSetupError(`${where}: parameter ${name} has type ${type} but its value ${JSON.stringify(value)} is not ${expected}`);
  };
  switch (type) {
    case 'INT': {
      const n = typeof value === 'number' ? value : Number(text.trim());
      return Number.isInteger(n) && text.trim() !== '' ? n : fail('an integer');
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const n = typeof value === 'number' ? value : Number(text.trim());
      return Number.isFinite(n) && text.trim() !== '' ? n : fail('a number');
    }
    case 'STRING':
      return typeof value === 'string' ? value : text;
    case 'BOOL': {
      if (typeof value === 'boolean') return value;
      const word = text.trim().toLowerCase();
      return TRUE.has(word) ? true : FALSE.has(word) ? false : fail('true or false');
    }
    case 'JSON':
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return fail('valid JSON');
      }
    default:
      throw new HostSetupError(`${where}: parameter ${name} has type ${JSON.stringify(type)}; expected INT, FLOAT, DOUBLE, STRING, BOOL or JSON`);
  }
}

/**
 * Seldon's parameter list `[{"name","value","type"}]` as the one options object the model's
 * constructor receives: `{name: converted value}`.
 */
export function parseParameters(json: string, where: string = COMPONENT_ENV.parameters): Record<string, unknown> {
  if (json.trim() === '') return {};
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch (err) {
    throw new HostSetupError(`${where}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (list === null) return {};
  if (!Array.isArray(list)) throw new HostSetupError(`${where}: expected a JSON list of {"name","value","type"}`);
  const out: Record<string, unknown> = {};
  list.forEach((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) throw new HostSetupError(`${where}[${i}]: expected {"name","value","type"}`);
    const { name, value, type } = item as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw new HostSetupError(`${where}[${i}].name: expected a non-empty string`);
    const kind = type === undefined ? 'STRING' : typeof type === 'string' ? type.toUpperCase() : JSON.stringify(type);
    out[name] = convertParameter(name, kind, value, `${where}[${i}]`);
  });
  return out;
}
