/**
 * Manifests as text: an object read back from the API turned into the manifest a user would apply
 * (no `status`, no server-set metadata) and written as YAML in the shape `trantor get -o yaml`
 * prints; the "copy as CLI" command. No preact here: the tests import it.
 */

/** Metadata the control plane sets; a manifest to apply leaves it out. */
const SERVER_METADATA = new Set(['creationTimestamp', 'uid', 'resourceVersion', 'managedFields', 'selfLink', 'deletionTimestamp']);

/** An object as the API reads it back, made a manifest again: without `status` and server-set metadata. */
export function manifestOfView(view: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(view)) {
    if (key === 'status') continue;
    if (key === 'metadata' && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => !SERVER_METADATA.has(k)));
    } else out[key] = value;
  }
  return out;
}

const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;

/** A string as a YAML scalar: plain when that reads back as the same string, else double-quoted (JSON's escapes are YAML's). */
function scalarText(text: string): string {
  if (/^[A-Za-z_/.][A-Za-z0-9_./ -]*$/.test(text) && !text.endsWith(' ') && !RESERVED.test(text) && !/^\.(?:inf|nan)$/i.test(text)) return text;
  return JSON.stringify(text);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return scalarText(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function isBlock(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

function emptyOrScalar(value: unknown): string {
  if (Array.isArray(value)) return '[]';
  if (typeof value === 'object' && value !== null) return '{}';
  return scalar(value);
}

function emit(value: unknown, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (!isBlock(item)) {
        out.push(`${pad}- ${emptyOrScalar(item)}`);
        continue;
      }
      const first = out.length;
      emit(item, indent + 2, out);
      out[first] = `${pad}- ${out[first]!.slice(indent + 2)}`;
    }
    return;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    const name = scalarText(key);
    if (!isBlock(item)) out.push(`${pad}${name}: ${emptyOrScalar(item)}`);
    else {
      out.push(`${pad}${name}:`);
      // Lists sit at their key's indentation, as kubectl writes them.
      emit(item, Array.isArray(item) ? indent : indent + 2, out);
    }
  }
}

/** `value` (JSON data) as a YAML document, ending in a newline. */
export function toYaml(value: unknown): string {
  if (!isBlock(value)) return `${emptyOrScalar(value)}\n`;
  const out: string[] = [];
  emit(value, 0, out);
  return `${out.join('\n')}\n`;
}

/** The command that applies `text` from a terminal: `trantor apply -f - <<'EOF' … EOF`. */
export function applyCommand(text: string): string {
  let mark = 'EOF';
  for (let n = 1; text.split('\n').includes(mark); n++) mark = `EOF${n}`;
  return `trantor apply -f - <<'${mark}'\n${text.endsWith('\n') ? text : `${text}\n`}${mark}`;
}
