/**
 * Kubernetes label selectors as `kubectl get -l` takes them: requirements joined by commas, each
 * `key=value` (or `==`), `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (has the label)
 * or `!key` (has not). A mistake is named with its position (1-based) in the text.
 */
import { CliError } from './control-plane.ts';

export type Requirement =
  | { key: string; op: 'exists' | 'absent' }
  | { key: string; op: 'equals' | 'differs'; value: string }
  | { key: string; op: 'in' | 'notin'; values: readonly string[] };

export type Selector = readonly Requirement[];

/** A label key or value: letters, digits, `-`, `_`, `.`, and `/` in a key's prefix. */
const WORD = /[A-Za-z0-9._/-]/;

class Reader {
  #at = 0;
  constructor(readonly text: string) {}

  get at(): number {
    return this.#at;
  }

  skipSpaces(): void {
    while (this.text[this.#at] === ' ') this.#at++;
  }

  done(): boolean {
    this.skipSpaces();
    return this.#at >= this.text.length;
  }

  /** Consumes `token` (after spaces) when it comes next. */
  take(token: string): boolean {
    this.skipSpaces();
    if (!this.text.startsWith(token, this.#at)) return false;
    this.#at += token.length;
    return true;
  }

  word(): string {
    this.skipSpaces();
    const start = this.#at;
    while (this.#at < this.text.length && WORD.test(this.text[this.#at]!)) this.#at++;
    return this.text.slice(start, this.#at);
  }

  /** `in` or `notin` as a whole word (not the start of a value such as `inner`). */
  keyword(word: string): boolean {
    this.skipSpaces();
    if (!this.text.startsWith(word, this.#at)) return false;
    const next = this.text[this.#at + word.length];
    if (next !== undefined && next !== ' ' && next !== '(') return false;
    this.#at += word.length;
    return true;
  }

  fail(what: string, at = this.#at): never {
    this.skipSpaces();
    const found = at >= this.text.length ? 'the end' : `"${this.text.slice(at, at + 10)}"`;
    throw new CliError(`selector "${this.text}": ${what} at position ${at + 1}, found ${found}`);
  }
}

function checkKey(reader: Reader, key: string, start: number): void {
  if (key === '') reader.fail('expected a label key', start);
  if (key.split('/').length > 2) reader.fail(`label key "${key}" has more than one "/"`, start);
}

function valueList(reader: Reader): string[] {
  if (!reader.take('(')) reader.fail('expected "(" to start the set of values');
  const values: string[] = [];
  for (;;) {
    values.push(reader.word());
    if (reader.take(')')) return values;
    if (!reader.take(',')) reader.fail('expected "," or ")" in the set of values');
  }
}

function requirement(reader: Reader): Requirement {
  reader.skipSpaces();
  const start = reader.at;
  if (reader.take('!')) {
    const keyAt = reader.at;
    const key = reader.word();
    checkKey(reader, key, keyAt);
    return { key, op: 'absent' };
  }
  const key = reader.word();
  checkKey(reader, key, start);
  if (reader.take('!=')) return { key, op: 'differs', value: reader.word() };
  if (reader.take('==') || reader.take('=')) return { key, op: 'equals', value: reader.word() };
  if (reader.keyword('notin')) return { key, op: 'notin', values: valueList(reader) };
  if (reader.keyword('in')) return { key, op: 'in', values: valueList(reader) };
  return { key, op: 'exists' };
}

export function parseSelector(text: string): Selector {
  const reader = new Reader(text);
  const requirements: Requirement[] = [];
  if (reader.done()) return requirements;
  for (;;) {
    requirements.push(requirement(reader));
    if (reader.done()) return requirements;
    if (!reader.take(',')) reader.fail('expected "," between requirements (or =, !=, in, notin after a key)');
  }
}

export function matchesSelector(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const has = (key: string): boolean => labels !== undefined && Object.hasOwn(labels, key);
  return selector.every((r) => {
    const value = labels?.[r.key];
    switch (r.op) {
      case 'exists':
        return has(r.key);
      case 'absent':
        return !has(r.key);
      case 'equals':
        return has(r.key) && value === r.value;
      case 'differs':
        return !has(r.key) || value !== r.value;
      case 'in':
        return has(r.key) && r.values.includes(value!);
      case 'notin':
        return !has(r.key) || !r.values.includes(value!);
    }
  });
}
