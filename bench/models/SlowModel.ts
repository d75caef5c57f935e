/**
 * A model with a fixed cost of 2 ms per call, whatever the batch size, one call at a time: the
 * way a GPU-backed model behaves. It sleeps on a timer rather than busy-waiting, so the host's
 * event loop stays free to take the next requests, and calls queue behind one another as they
 * would for one device. Returns its input. The batching benchmark uses it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Features, SeldonComponent } from '../../src/component/index.ts';

const COST_MS = 2;

export class SlowModel implements SeldonComponent {
  private device: Promise<unknown> = Promise.resolve();

  predict(X: Features, _names: string[]): Promise<Features> {
    const done = this.device.then(() => sleep(COST_MS)).then(() => X);
    this.device = done;
    return done;
  }
}
