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
 */
import { isJsonContentType, validateEvent } from './cloudevents.ts';
import type { CloudEvent } from './cloudevents.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text block for one event, ending with a newline. */
export function formatEvent(event: CloudEvent): string {
  const lines = ['\u2601\ufe0f  cloudevents.Event'];
  let validation = 'valid';
  try {
    validateEvent(event);
  } catch (err) {
    validation = `invalid: ${err instanceof Error ? err.message : String(err)}`;
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
  for (const [name, value] of context) if (value !== undefined) lines.push(`  ${name}: ${value}`);
  const names = Object.keys(event.extensions).sort();
  if (names.length > 0) {
    lines.push('Extensions,');
    for (const name of names) lines.push(`  ${name}: ${String(event.extensions[name])}`);
  }
  const data = dataText(event);
  if (data !== undefined) {
    lines.push('Data,');
    for (const line of data.split('\n')) lines.push(`  ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

function dataText(event: CloudEvent): string | undefined {
  const data = event.data;
  if (data === undefined) return undefined;
  if (!(data instanceof Uint8Array)) {
    if (typeof data === 'string' && !isJsonContentType(event.datacontenttype)) return data;
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
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }
  return text;
}
