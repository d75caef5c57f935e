/**
 * kubectl's JSONPath templates (`-o jsonpath=…`, custom-columns, `--sort-by`): text with actions
 * in braces — a path `{.metadata.name}`, `{.items[*].metadata.name}`, `{range .items[*]}…{end}`
 * and string literals `{"\n"}`. Paths take fields (`.a`, `['a-b']`), `..a` (recursive), `*`,
 * indexes and slices (`[0]`, `[-1:]`, `[1:3]`), unions `[0,2]` and filters
 * `[?(@.status.state=="Available")]` (==, !=, <, <=, >, >=, or a bare path: it exists).
 * A missing field gives nothing, as kubectl's default --allow-missing-template-keys.
 */
import { CliError } from './control-plane.ts';

type Literal = string | number | boolean | null;

type Step =
  | { t: 'field'; name: string }
  | { t: 'recursive'; name: string | undefined }
  | { t: 'wildcard' }
  | { t: 'union'; keys: readonly (string | number)[] }
  | { t: 'slice'; start: number | undefined; end: number | undefined; step: number | undefined }
  | { t: 'filter'; left: Path; op: FilterOp | undefined; right: Path | { literal: Literal } | undefined };

type FilterOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface Path {
  /** `$` starts from the root, `@` (and a bare `.`) from the current object. */
  root: '$' | '@';
  steps: readonly Step[];
}

type Action = { t: 'text'; text: string } | { t: 'path'; path: Path } | { t: 'range'; path: Path; body: Action[] };

export interface Template {
  source: string;
  actions: readonly Action[];
}

function fail(source: string, what: string, at: number): never {
  throw new CliError(`jsonpath ${JSON.stringify(source)}: ${what} at position ${at + 1}`);
}

const FIELD_CHAR = /[A-Za-z0-9_\-/]/;

/** Reads one path from `text` at `at`; stops at what cannot continue a path. */
class PathReader {
  at: number;
  constructor(
    readonly source: string,
    readonly text: string,
    start: number,
    readonly offset: number,
  ) {
    this.at = start;
  }

  fail(what: string): never {
    fail(this.source, what, this.offset + this.at);
  }

  path(): Path {
    let root: '$' | '@' = '@';
    if (this.text[this.at] === '$') {
      root = '$';
      this.at++;
    } else if (this.text[this.at] === '@') this.at++;
    const steps: Step[] = [];
    for (;;) {
      const c = this.text[this.at];
      if (c === '.' && this.text[this.at + 1] === '.') {
        this.at += 2;
        const name = this.text[this.at] === '*' ? (this.at++, undefined) : this.field();
        if (name === '') this.fail('expected a field name after ".."');
        steps.push({ t: 'recursive', name });
      } else if (c === '.') {
        this.at++;
        if (this.text[this.at] === '*') {
          this.at++;
          steps.push({ t: 'wildcard' });
        } else {
          const name = this.field();
          // A lone `.` (`{.}`) is the current object itself.
          if (name !== '') steps.push({ t: 'field', name });
        }
      } else if (c === '[') {
        this.at++;
        steps.push(this.bracket());
      } else return { root, steps };
    }
  }

  field(): string {
    let name = '';
    while (this.at < this.text.length) {
      const c = this.text[this.at]!;
      if (c === '\\' && this.text[this.at + 1] === '.') {
        name += '.';
        this.at += 2;
      } else if (FIELD_CHAR.test(c)) {
        name += c;
        this.at++;
      } else break;
    }
    return name;
  }

  spaces(): void {
    while (this.text[this.at] === ' ') this.at++;
  }

  quoted(): string {
    const quote = this.text[this.at];
    let out = '';
    this.at++;
    while (this.at < this.text.length && this.text[this.at] !== quote) {
      if (this.text[this.at] === '\\' && this.at + 1 < this.text.length) this.at++;
      out += this.text[this.at];
      this.at++;
    }
    if (this.at >= this.text.length) this.fail(`unterminated string (no closing ${quote})`);
    this.at++;
    return out;
  }

  integer(): number | undefined {
    const match = /^-?\d+/.exec(this.text.slice(this.at));
    if (match === null) return undefined;
    this.at += match[0].length;
    return Number(match[0]);
  }

  close(): void {
    this.spaces();
    if (this.text[this.at] !== ']') this.fail('expected "]"');
    this.at++;
  }

  bracket(): Step {
    this.spaces();
    const c = this.text[this.at];
    if (c === '*') {
      this.at++;
      this.close();
      return { t: 'wildcard' };
    }
    if (c === '?') {
      this.at++;
      if (this.text[this.at] !== '(') this.fail('expected "(" after "?"');
      this.at++;
      const step = this.filter();
      if (this.text[this.at] !== ')') this.fail('expected ")" to close the filter');
      this.at++;
      this.close();
      return step;
    }
    const keys: (string | number)[] = [];
    let slice: { start: number | undefined; end: number | undefined; step: number | undefined } | undefined;
    for (;;) {
      this.spaces();
      const d = this.text[this.at];
      if (d === "'" || d === '"') keys.push(this.quoted());
      else {
        const start = this.integer();
        if (this.text[this.at] === ':') {
          this.at++;
          const end = this.integer();
          let step: number | undefined;
          if (this.text[this.at] === ':') {
            this.at++;
            step = this.integer();
            if (step === 0) this.fail('a slice step cannot be 0');
          }
          slice = { start, end, step };
        } else if (start === undefined) this.fail('expected an index, a slice, * , ?(filter) or a quoted name');
        else keys.push(start);
      }
      this.spaces();
      if (this.text[this.at] === ',' && slice === undefined) {
        this.at++;
        continue;
      }
      this.close();
      if (slice !== undefined) {
        if (keys.length > 0) this.fail('a slice cannot be part of a union');
        return { t: 'slice', ...slice };
      }
      return { t: 'union', keys };
    }
  }

  operand(): Path | { literal: Literal } {
    this.spaces();
    const c = this.text[this.at];
    if (c === "'" || c === '"') return { literal: this.quoted() };
    if (c === '@' || c === '$' || c === '.') return this.path();
    const match = /^(-?\d+(?:\.\d+)?|true|false|null)/.exec(this.text.slice(this.at));
    if (match === null) this.fail('expected a path, a quoted string or a number in the filter');
    this.at += match[0].length;
    return { literal: JSON.parse(match[0]) as Literal };
  }

  filter(): Step {
    this.spaces();
    const left = this.operand();
    if (!('root' in left)) this.fail('a filter starts with a path such as @.status.state');
    this.spaces();
    const op = /^(==|!=|<=|>=|<|>)/.exec(this.text.slice(this.at))?.[0] as FilterOp | undefined;
    if (op === undefined) return { t: 'filter', left, op: undefined, right: undefined };
    this.at += op.length;
    const right = this.operand();
    this.spaces();
    return { t: 'filter', left, op, right };
  }
}

/** One path as a whole string (`.metadata.name`, `$.items[0]`); throws at what does not belong. */
export function parsePath(text: string, source = text, offset = 0): Path {
  const reader = new PathReader(source, text, 0, offset);
  const path = reader.path();
  if (reader.at < text.length) reader.fail(`unexpected "${text.slice(reader.at, reader.at + 10)}"`);
  return path;
}

function unquote(source: string, body: string, at: number): string {
  const quote = body[0]!;
  if (body.length < 2 || body[body.length - 1] !== quote) fail(source, `unterminated string literal ${body}`, at);
  const inner = body.slice(1, -1);
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
  return inner.replace(/\\(.)/g, (_all, c: string) => escapes[c] ?? c);
}

/** Where the action opened at `open` (a `{`) closes, skipping quoted text. */
function closingBrace(source: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < source.length; i++) {
    const c = source[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return i;
  }
  return fail(source, 'unclosed "{"', open);
}

export function parseTemplate(source: string): Template {
  const root: Action[] = [];
  const stack: { body: Action[]; at: number }[] = [{ body: root, at: 0 }];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{', at);
    const body = stack[stack.length - 1]!.body;
    if (open === -1) {
      body.push({ t: 'text', text: source.slice(at) });
      break;
    }
    if (open > at) body.push({ t: 'text', text: source.slice(at, open) });
    const close = closingBrace(source, open);
    const inner = source.slice(open + 1, close);
    const trimmed = inner.trim();
    const innerAt = open + 1 + (inner.length - inner.trimStart().length);
    if (trimmed === 'end') {
      if (stack.length === 1) fail(source, '{end} without a {range}', open);
      stack.pop();
    } else if (trimmed.startsWith('range ') || trimmed === 'range') {
      const pathText = trimmed.slice('range'.length).trimStart();
      if (pathText === '') fail(source, 'range needs a path, as {range .items[*]}', open);
      const action: Action = { t: 'range', path: parsePath(pathText, source, innerAt + trimmed.length - pathText.length), body: [] };
      body.push(action);
      stack.push({ body: action.body, at: open });
    } else if (trimmed.startsWith('"') || trimmed.startsWith("'")) {
      body.push({ t: 'text', text: unquote(source, trimmed, innerAt) });
    } else if (trimmed === '') {
      fail(source, 'empty {}', open);
    } else {
      body.push({ t: 'path', path: parsePath(trimmed, source, innerAt) });
    }
    at = close + 1;
  }
  if (stack.length > 1) fail(source, '{range} without an {end}', stack[stack.length - 1]!.at);
  return { source, actions: root };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.values(value);
  return [];
}

function descendants(value: unknown, out: unknown[]): void {
  out.push(value);
  for (const child of children(value)) descendants(child, out);
}

function sliceOf(list: readonly unknown[], step: { start: number | undefined; end: number | undefined; step: number | undefined }): unknown[] {
  const n = list.length;
  const by = step.step ?? 1;
  const norm = (i: number): number => (i < 0 ? Math.max(0, n + i) : Math.min(n, i));
  const out: unknown[] = [];
  if (by > 0) {
    for (let i = norm(step.start ?? 0); i < norm(step.end ?? n); i += by) out.push(list[i]);
  } else {
    const start = step.start === undefined ? n - 1 : Math.min(n - 1, step.start < 0 ? n + step.start : step.start);
    const end = step.end === undefined ? -1 : step.end < 0 ? n + step.end : step.end;
    for (let i = start; i > end; i += by) out.push(list[i]);
  }
  return out;
}

function compare(left: unknown, op: FilterOp, right: unknown): boolean {
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    default: {
      if (!((typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string'))) return false;
      if (op === '<') return left < right;
      if (op === '<=') return left <= right;
      if (op === '>') return left > right;
      return left >= right;
    }
  }
}

function applyStep(values: readonly unknown[], step: Step, root: unknown): unknown[] {
  const out: unknown[] = [];
  for (const value of values) {
    switch (step.t) {
      case 'field':
        if (isObject(value) && Object.hasOwn(value, step.name)) out.push(value[step.name]);
        break;
      case 'wildcard':
        out.push(...children(value));
        break;
      case 'recursive': {
        const all: unknown[] = [];
        descendants(value, all);
        for (const node of all) {
          if (step.name === undefined) out.push(...children(node));
          else if (isObject(node) && Object.hasOwn(node, step.name)) out.push(node[step.name]);
        }
        break;
      }
      case 'union':
        for (const key of step.keys) {
          if (typeof key === 'number' && Array.isArray(value)) {
            const i = key < 0 ? value.length + key : key;
            if (i >= 0 && i < value.length) out.push(value[i]);
          } else if (typeof key === 'string' && isObject(value) && Object.hasOwn(value, key)) out.push(value[key]);
        }
        break;
      case 'slice':
        if (Array.isArray(value)) out.push(...sliceOf(value, step));
        break;
      case 'filter':
        for (const item of children(value)) {
          const left = evaluatePath(step.left, item, root);
          if (step.op === undefined || step.right === undefined) {
            if (left.length > 0) out.push(item);
            continue;
          }
          const right = 'literal' in step.right ? [step.right.literal] : evaluatePath(step.right, item, root);
          if (left.length > 0 && right.length > 0 && compare(left[0], step.op, right[0])) out.push(item);
        }
        break;
    }
  }
  return out;
}

/** Every value `path` reaches from `current` (or from `root` for a `$` path). */
export function evaluatePath(path: Path, current: unknown, root: unknown = current): unknown[] {
  let values = [path.root === '$' ? root : current];
  for (const step of path.steps) values = applyStep(values, step, root);
  return values;
}

/** A value as kubectl prints it in a template: strings bare, everything else as JSON. */
export function printedValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value);
}

function run(actions: readonly Action[], current: unknown, root: unknown): string {
  let out = '';
  for (const action of actions) {
    if (action.t === 'text') out += action.text;
    else if (action.t === 'path') out += evaluatePath(action.path, current, root).map(printedValue).join(' ');
    else for (const item of evaluatePath(action.path, current, root)) out += run(action.body, item, root);
  }
  return out;
}

export function executeTemplate(template: Template, data: unknown): string {
  return run(template.actions, data, data);
}

/**
 * kubectl's relaxed form for custom-columns and --sort-by: `.metadata.name`, `{.metadata.name}`
 * or `metadata.name` all name the same field.
 */
export function parseRelaxedPath(text: string): Path {
  let inner = text.trim();
  if (inner.startsWith('{') && inner.endsWith('}')) inner = inner.slice(1, -1).trim();
  if (inner === '') throw new CliError(`jsonpath ${JSON.stringify(text)}: empty path`);
  if (!/^[.$@[]/.test(inner)) inner = `.${inner}`;
  return parsePath(inner, text);
}
