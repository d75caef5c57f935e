/**
 * Protocol Buffers text format, as Triton's `config.pbtxt` is written: `field: value`, nested
 * messages `field { … }` (the colon optional), lists `field: [a, b]`, a repeated field by writing
 * it again, strings in double or single quotes (C escapes), numbers, identifiers (enum values,
 * `true`, `false`), `#` comments, and `,` or `;` between fields.
 *
 * Parsing gives a tree without a schema: every field holds the list of values written for it, in
 * order; `config.ts` reads the fields it knows from that tree.
 */
import { TrantorError } from '../../../protocol/index.ts';

/** A scalar as written: a string literal, a number, or an identifier (an enum value, true/false). */
export type TextScalar = { readonly kind: 'string'; readonly value: string } | { readonly kind: 'number'; readonly value: number; readonly text: string } | { readonly kind: 'identifier'; readonly value: string };

/** A message: each field's values in the order written. */
export interface TextMessage {
  readonly fields: ReadonlyMap<string, readonly TextValue[]>;
}

export type TextValue = TextScalar | { readonly kind: 'message'; readonly value: TextMessage };

type Token =
  | { kind: 'punct'; text: string; line: number }
  | { kind: 'string'; text: string; line: number }
  | { kind: 'word'; text: string; line: number };

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '?': '?' };

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const fail = (what: string): never => {
    throw new TrantorError('BAD_MANIFEST', `${source}:${line}: ${what}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if ('{}[]:,;<>'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length || text[i] === '\n') fail(`a string opened with ${c} is not closed on its line`);
        const d = text[i]!;
        if (d === c) break;
        if (d === '\\') {
          const e = text[i + 1] ?? '';
          if (/[0-7]/.test(e)) {
            const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
            value += String.fromCharCode(parseInt(octal, 8));
            i += 1 + octal.length;
            continue;
          }
          if (e === 'x') {
            const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2))?.[0] ?? fail('\\x needs hex digits');
            value += String.fromCharCode(parseInt(hex, 16));
            i += 2 + hex.length;
            continue;
          }
          value += ESCAPES[e] ?? fail(`unknown escape \\${e} in a string`);
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      // Adjacent literals join, as in C.
      const last = tokens.at(-1);
      if (last?.kind === 'string') last.text += value;
      else tokens.push({ kind: 'string', text: value, line });
    } else if (/[-+.\w]/.test(c)) {
      const word = /^[-+.\w]+/.exec(text.slice(i))![0];
      tokens.push({ kind: 'word', text: word, line });
      i += word.length;
    } else {
      fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  return tokens;
}

const NUMBER = /^[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)$/;

function scalarOf(token: Token, source: string): TextScalar {
  if (token.kind === 'string') return { kind: 'string', value: token.text };
  if (token.kind === 'word' && NUMBER.test(token.text)) {
    const text = token.text.replace(/[fF]$/, '');
    const hex = /^([-+]?)0[xX](.*)$/.exec(text);
    const value = hex === null ? Number(text) : (hex[1] === '-' ? -1 : 1) * Number.parseInt(hex[2]!, 16);
    return { kind: 'number', value, text: token.text };
  }
  if (token.kind === 'word' && /^[A-Za-z_]\w*$/.test(token.text)) return { kind: 'identifier', value: token.text };
  throw new TrantorError('BAD_MANIFEST', `${source}:${token.line}: expected a value, got ${JSON.stringify(token.text)}`);
}

/** Parses text format; a syntax error is a BAD_MANIFEST naming `source` and the line. */
export function parseTextFormat(text: string, source: string): TextMessage {
  const tokens = tokenize(text, source);
  let at = 0;
  const lineOf = (): number => tokens[at]?.line ?? tokens.at(-1)?.line ?? 1;
  const fail = (what: string): never => {
    throw new TrantorError('BAD_MANIFEST', `${source}:${lineOf()}: ${what}`);
  };
  const peek = (text: string): boolean => tokens[at]?.kind === 'punct' && tokens[at]!.text === text;
  const take = (text: string): boolean => {
    if (!peek(text)) return false;
    at++;
    return true;
  };

  const message = (close: string | undefined): TextMessage => {
    const fields = new Map<string, TextValue[]>();
    for (;;) {
      if (close === undefined ? at >= tokens.length : take(close)) return { fields };
      if (at >= tokens.length) fail(`the message is not closed: expected ${close}`);
      const name = tokens[at]!;
      if (name.kind !== 'word' || !/^[A-Za-z_][\w.]*$/.test(name.text)) fail(`expected a field name, got ${JSON.stringify(name.text)}`);
      at++;
      const colon = take(':');
      const values = fields.get(name.text) ?? [];
      fields.set(name.text, values);
      if (peek('[')) {
        at++;
        while (!take(']')) {
          values.push(value(name.text));
          if (!take(',') && !peek(']')) fail(`expected , or ] in the list of ${name.text}`);
        }
      } else if (!colon && !peek('{') && !peek('<')) {
        fail(`expected : after ${name.text}`);
      } else {
        values.push(value(name.text));
      }
      if (!take(',')) take(';');
    }
  };

  const value = (field: string): TextValue => {
    if (take('{')) return { kind: 'message', value: message('}') };
    if (take('<')) return { kind: 'message', value: message('>') };
    const token = tokens[at] ?? fail(`expected a value for ${field}, got the end of the file`);
    if (token.kind === 'punct') fail(`expected a value for ${field}, got ${token.text}`);
    at++;
    return scalarOf(token, source);
  };

  return message(undefined);
}
