/**
 * A model that does nothing: it returns its input, without logging. Benchmarks use it to
 * measure what serving costs on its own.
 */
import type { Features, SeldonComponent } from 'trantor-ml/component';

export class NoopModel implements SeldonComponent {
  predict(X: Features, _names: string[]): Features {
    return X;
  }
}
