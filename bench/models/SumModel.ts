/**
 * A model that answers the sum of its input's numbers, as one value: the gRPC/V2 bench sends it
 * 100,000 doubles, so a call's cost is carrying and reading the tensor, not answering it.
 */
import type { Features, SeldonComponent } from '../../src/component/index.ts';

function sum(value: unknown): number {
  if (typeof value === 'number') return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const elements = value as unknown as ArrayLike<number | bigint>;
    let total = 0;
    for (let i = 0; i < elements.length; i++) total += Number(elements[i]);
    return total;
  }
  if (Array.isArray(value)) {
    let total = 0;
    for (const element of value) total += sum(element);
    return total;
  }
  throw new TypeError(`SumModel takes numbers, got ${typeof value}`);
}

export class SumModel implements SeldonComponent {
  predict(X: Features, _names: string[]): Features {
    return [[sum(X)]];
  }
}
