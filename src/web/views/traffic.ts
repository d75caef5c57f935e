import { html } from 'htm/preact';
import type { DeploymentView } from '../types.ts';

export function TrafficTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  return html`<section class="tab">traffic of ${deployment.metadata.name}</section>`;
}
