/**
 * Request bodies as Seldon accepts them: JSON, or a form (`application/x-www-form-urlencoded`
 * or a query string) whose `json` field holds the JSON text. multipart/form-data is in multipart.ts.
 */
import { TrantorError } from './errors.ts';
import { assertJsonDepth } from './json-depth.ts';
import { parseJsonLossless } from './json-lossless.ts';

/**
 * Parses JSON text, naming where it came from and where it broke when it is not JSON. Nesting
 * deeper than MAX_JSON_DEPTH is refused (JSON_TOO_DEEP) before parsing. As Python writes JSON,
 * NaN, Infinity and -Infinity are accepted, and numbers a double would change are kept exact
 * (see json-lossless.ts).
 */
export function parseJson(text: string, where = 'body'): unknown {
  if (text.trim() === '') throw new TrantorError('EMPTY_BODY', `${where}: empty; send a JSON Seldon message such as {"data":{"ndarray":[[1,2]]}}`);
  assertJsonDepth(text, where);
  try {
    return parseJsonLossless(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new TrantorError('BAD_JSON', `${where}: not valid JSON (${detail})`);
  }
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * The JSON value a request carries. `query` is the raw query string (without `?`), consulted
 * for `json=` when the body is empty, as Seldon's wrapper does for GET requests.
 */
export function decodeBody(contentType: string | undefined, body: string, query = ''): unknown {
  const type = mediaType(contentType);
  if (body.length === 0 && query.includes('json=')) return jsonField(query, 'query string');
  if (type === 'application/x-www-form-urlencoded') {
    // `curl -d '{…}'` sends JSON labelled as a form; take it as the JSON it plainly is.
    const first = body.trimStart()[0];
    return first === '{' || first === '[' ? parseJson(body) : jsonField(body, 'form');
  }
  if (type === '' || type === 'application/json' || type.endsWith('+json') || type === 'text/plain') {
    return parseJson(body);
  }
  throw new TrantorError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Type ${type} is not supported; send application/json, a form with a json= field, or multipart/form-data`,
  );
}

function jsonField(encoded: string, where: string): unknown {
  const value = new URLSearchParams(encoded).get('json');
  if (value === null) throw new TrantorError('BAD_PAYLOAD', `${where}: no json= field; send json=<Seldon message>`);
  return parseJson(value, `${where} field json`);
}
