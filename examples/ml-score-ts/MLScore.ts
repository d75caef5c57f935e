/**
 * The identity model from "ML on Kubernetes 101", as a TypeScript class: it returns the
 * features it is given. Serve it from this folder with
 *
 *   trantor-node-microservice MLScore --service-type MODEL
 */
import type { Features, SeldonComponent } from 'trantor-ml/component';

export class MLScore implements SeldonComponent {
  /** Parameters from the SeldonDeployment's graph node arrive here as one object. */
  constructor(_parameters: Record<string, unknown> = {}) {
    console.log('Initializing');
  }

  predict(X: Features, _featureNames: string[]): Features {
    console.log('Predict called - will run identity function');
    return X;
  }
}
