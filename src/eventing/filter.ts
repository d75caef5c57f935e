/**
 * Trigger matching, compiled once per trigger into a predicate.
 *
 * `filter.attributes`: every entry must match exactly; an empty value only asks that the
 * attribute be present. `filters` (Knative's SQL-free dialect): exact / prefix / suffix / all /
 * any / not; every entry of the list must match. When `filters` is non-empty it is used and
 * `attributes` is ignored, as Knative does.
 */
import { attributeOf } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';
import type { FilterExpression, Trigger } from '../manifest/index.ts';

export type EventPredicate = (event: CloudEvent) => boolean;

const always: EventPredicate = () => true;

/** The predicate for a trigger's `filter.attributes` and `filters`. */
export function compileTriggerFilter(spec: Pick<Trigger['spec'], 'attributes' | 'filters'>): EventPredicate {
  if (spec.filters.length > 0) return allOf(spec.filters.map(compileExpression));
  return compileAttributes(spec.attributes);
}

/** `filter.attributes`: exact match per entry; an empty value means "present". */
export function compileAttributes(attributes: Readonly<Record<string, string>>): EventPredicate {
  const checks: EventPredicate[] = Object.entries(attributes).map(([name, value]) =>
    value === '' ? (e) => attributeOf(e, name) !== undefined : (e) => attributeOf(e, name) === value,
  );
  return allOf(checks);
}

/** One expression of the `filters` dialect. */
export function compileExpression(expression: FilterExpression): EventPredicate {
  if ('exact' in expression) return compareEach(expression.exact, (actual, wanted) => actual === wanted);
  if ('prefix' in expression) return compareEach(expression.prefix, (actual, wanted) => actual.startsWith(wanted));
  if ('suffix' in expression) return compareEach(expression.suffix, (actual, wanted) => actual.endsWith(wanted));
  if ('all' in expression) return allOf(expression.all.map(compileExpression));
  if ('any' in expression) {
    const parts = expression.any.map(compileExpression);
    return (e) => parts.some((p) => p(e));
  }
  const inner = compileExpression(expression.not);
  return (e) => !inner(e);
}

function compareEach(entries: Readonly<Record<string, string>>, compare: (actual: string, wanted: string) => boolean): EventPredicate {
  const checks: EventPredicate[] = Object.entries(entries).map(([name, wanted]) => (e) => {
    const actual = attributeOf(e, name);
    return actual !== undefined && compare(actual, wanted);
  });
  return allOf(checks);
}

function allOf(parts: EventPredicate[]): EventPredicate {
  if (parts.length === 0) return always;
  if (parts.length === 1) return parts[0]!;
  return (e) => {
    for (const p of parts) if (!p(e)) return false;
    return true;
  };
}
