/**
 * An event printed the way Knative's event_display prints it (the CloudEvents Go SDK's layout):
 *
 *   ☁️  cloudevents.Event
 *   Validation: valid
 *   Context Attributes,
 *     specversion: 0.3
 *     type: …
 *   Extensions,
 *     knativearrivaltime: …
 *   Data,
 *     { JSON pretty-printed, indented }
 *
 * Everything printed comes from whoever sent the event, and it goes to a terminal: escape
 * sequences could retitle the window, hide lines, rewrite what was printed before (`\r`) or, on
 * some terminals, answer back as typed input. So every attribute, extension and the data are
 * printed without terminal control characters (C0 but newline and tab, DEL, C1, and whole ESC
 * sequences); a one-line attribute keeps no newline or tab either, so it cannot forge lines.
 */
import { isJsonContentType, validateEvent } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

// ESC sequences, whole: CSI (ESC [ or U+009B, parameters, intermediates, final byte); OSC, DCS,
// SOS, PM and APC strings up to BEL or ST (ESC \ or U+009C), or to the end when unterminated; and
// the two-character ones (ESC and one more character).
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[\u0020-\u002f]*[\u0030-\u007e]?/g;
// eslint-disable-next-line no-control-regex
const CONTROL_KEEPING_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` without terminal control: escape sequences and control characters removed, newlines and tabs kept. */
export function stripTerminalControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL_KEEPING_LINES, '');
}

/** A one-line value: as stripTerminalControls, and newlines and tabs go too (each becomes a space). */
function oneLine(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/[\n\t]/g, ' ').replace(CONTROL, '');
}

/** The text block for one event, ending with a newline. */
export function formatEvent(event: CloudEvent): string {
  const lines = ['\u2601\ufe0f  cloudevents.Event'];
  let validation = 'valid';
  try {
    validateEvent(event);
  } catch (err) {
    validation = `invalid: ${oneLine(err instanceof Error ? err.message : String(err))}`;
  }
  lines.push(`Validation: ${validation}`, 'Context Attributes,');
  const context: Array<[string, string | undefined]> = [
    ['specversion', event.specversion],
    ['type', event.type],
    ['source', event.source],
    ['subject', event.subject],
    ['id', event.id],
    ['time', event.time],
    [event.specversion === '0.3' ? 'schemaurl' : 'dataschema', event.specversion === '0.3' ? event.schemaurl : event.dataschema],
    ['datacontenttype', event.datacontenttype],
  ];
  for (const [name, value] of context) if (value !== undefined) lines.push(`  ${name}: ${oneLine(value)}`);
  const names = Object.keys(event.extensions).sort();
  if (names.length > 0) {
    lines.push('Extensions,');
    for (const name of names) lines.push(`  ${oneLine(name)}: ${oneLine(String(event.extensions[name]))}`);
  }
  const data = dataText(event);
  if (data !== undefined) {
    lines.push('Data,');
    for (const line of stripTerminalControls(data).split('\n')) lines.push(`  ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

function dataText(event: CloudEvent): string | undefined {
  const data = event.data;
  if (data === undefined) return undefined;
  if (!(data instanceof Uint8Array)) {
    if (typeof data === 'string' && !isJsonContentType(event.datacontenttype)) return data;
    // A structured event keeps its data's exact text: lay that out, so numbers show as they were sent.
    if (event.dataText !== undefined) return indentJson(event.dataText);
    return JSON.stringify(data, null, 2);
  }
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return Buffer.from(data).toString('base64');
  }
  if (isJsonContentType(event.datacontenttype) || event.datacontenttype === undefined) {
    try {
      JSON.parse(text);
    } catch {
      return text;
    }
    return indentJson(text);
  }
  return text;
}

const JSON_WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SCALAR_END = new Set([' ', '\t', '\n', '\r', ',', ':', ']', '}']);

/**
 * Valid JSON `text` laid out two spaces per level, as event_display's `json.Indent` does: only the
 * whitespace between tokens changes, each token is kept as sent — `1.0` stays `1.0`, a 20-digit
 * integer keeps its digits, `\u00e9` stays escaped — where a parse and stringify would rewrite
 * them. Empty objects and arrays stay `{}` and `[]`.
 */
function indentJson(text: string): string {
  const parts: string[] = [];
  let depth = 0;
  let opened = false;
  const lineBreak = (): void => {
    parts.push('\n', '  '.repeat(depth));
  };
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (JSON_WHITESPACE.has(c)) {
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      depth--;
      if (!opened) lineBreak();
      opened = false;
      parts.push(c);
      i++;
      continue;
    }
    if (opened) lineBreak();
    opened = false;
    if (c === '{' || c === '[') {
      depth++;
      opened = true;
      parts.push(c);
      i++;
    } else if (c === ',') {
      parts.push(',');
      lineBreak();
      i++;
    } else if (c === ':') {
      parts.push(': ');
      i++;
    } else {
      let end = i + 1;
      if (c === '"') {
        while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
        end++;
      } else {
        while (end < text.length && !SCALAR_END.has(text[end]!)) end++;
      }
      parts.push(text.slice(i, end));
      i = end;
    }
  }
  return parts.join('');
}
