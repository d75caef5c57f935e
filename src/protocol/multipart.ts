/**
 * multipart/form-data bodies, as Seldon's wrapper takes them (`curl -F strData=@file`,
 * `-F binData=@file`): a `binData` part becomes the message's `binData` in base64, a `strData` part
 * its `strData` as text, a `json` part the whole message, and any other part a field of the
 * message — a file part's text as it is, a plain field parsed as JSON (`-F 'meta={"tags":{}}'`).
 *
 * Parsing is Node's own (the WHATWG `Response.formData()` of its built-in fetch): multipart is
 * rare and never on the hot path, so no dependency is added for it. The body has been read, within
 * the gateway's body limit, before it gets here.
 */
import { TrantorError } from './errors.ts';
import { parseJson } from './body.ts';

/** At most this many parts: a Seldon message has a handful of fields. */
export const MAX_MULTIPART_PARTS = 64;

/** The Seldon message a multipart/form-data body carries. */
export async function decodeMultipart(contentType: string, body: Uint8Array): Promise<unknown> {
  if (!/;\s*boundary=/i.test(contentType)) {
    throw new TrantorError('BAD_PAYLOAD', 'multipart/form-data without a boundary parameter in Content-Type; let the client (curl -F) set the header');
  }
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    throw new TrantorError('BAD_PAYLOAD', `multipart/form-data body could not be parsed (${err instanceof Error ? err.message : String(err)}); send parts such as -F strData=@file or -F binData=@file`);
  }
  const message: Record<string, unknown> = {};
  let parts = 0;
  let whole: unknown;
  for (const [name, value] of form) {
    if (++parts > MAX_MULTIPART_PARTS) throw new TrantorError('BAD_PAYLOAD', `multipart/form-data: more than ${MAX_MULTIPART_PARTS} parts; a Seldon message needs a few (strData, binData, json …)`);
    const file = typeof value !== 'string';
    if (name === 'binData') {
      const bytes = file ? Buffer.from(await value.arrayBuffer()) : Buffer.from(value, 'utf8');
      message[name] = bytes.toString('base64');
      continue;
    }
    const text = file ? await value.text() : value;
    if (name === 'json') whole = parseJson(text, 'multipart part json');
    else if (name === 'strData' || file) message[name] = text;
    else message[name] = parseJson(text, `multipart part ${name}`);
  }
  if (whole === undefined) {
    if (parts === 0) throw new TrantorError('EMPTY_BODY', 'multipart/form-data body has no parts; send -F strData=@file, -F binData=@file or -F json=<Seldon message>');
    return message;
  }
  if (typeof whole !== 'object' || whole === null || Array.isArray(whole)) return whole;
  return { ...(whole as Record<string, unknown>), ...message };
}
