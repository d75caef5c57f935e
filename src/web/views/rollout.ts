import { html } from 'htm/preact';
import type { DeploymentView } from '../types.ts';

export function RolloutTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  return html`<section class="tab">rollout of ${deployment.metadata.name}</section>`;
}
