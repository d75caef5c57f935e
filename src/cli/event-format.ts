/**
 * A CloudEvent printed the way Knative's event_display prints it (the seeds' `kubectl logs
 * svc/event-display`): context attributes, extensions, then the data, JSON pretty-printed.
 */
import { isJsonContentType, type CloudEvent } from '../protocol/index.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The event as event_display prints it, ending with a blank line that separates it from the next. */
export function formatEvent(event: CloudEvent): string {
  const lines = ['☁️  cloudevents.Event', 'Validation: valid', 'Context Attributes,'];
  const attribute = (name: string, value: string | undefined): void => {
    if (value !== undefined) lines.push(`  ${name}: ${value}`);
  };
  attribute('specversion', event.specversion);
  attribute('type', event.type);
  attribute('source', event.source);
  attribute('subject', event.subject);
  attribute('id', event.id);
  attribute('time', event.time);
  attribute('dataschema', event.dataschema);
  attribute('schemaurl', event.schemaurl);
  attribute('datacontenttype', event.datacontenttype);
  const extensions = Object.keys(event.extensions).sort();
  if (extensions.length > 0) {
    lines.push('Extensions,');
    for (const name of extensions) lines.push(`  ${name}: ${String(event.extensions[name])}`);
  }
  const data = dataText(event);
  if (data !== undefined) {
    lines.push(data.binary ? 'Data (binary),' : 'Data,');
    for (const line of data.text.split('\n')) lines.push(`  ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

function dataText(event: CloudEvent): { text: string; binary: boolean } | undefined {
  const data = event.data;
  if (data === undefined) return undefined;
  const json = isJsonContentType(event.datacontenttype) || event.datacontenttype === undefined;
  if (!(data instanceof Uint8Array)) {
    if (typeof data === 'string' && !json) return { text: data, binary: false };
    return { text: JSON.stringify(data, null, 2), binary: false };
  }
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { text: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'), binary: true };
  }
  if (json) {
    try {
      return { text: JSON.stringify(JSON.parse(text) as unknown, null, 2), binary: false };
    } catch {
      // not JSON after all: show it as it came
    }
  }
  return { text, binary: false };
}
