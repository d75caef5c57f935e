import { html } from 'htm/preact';
import type { DeploymentView } from '../types.ts';

export function RequestsTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  return html`<section class="tab">requests of ${deployment.metadata.name}</section>`;
}
