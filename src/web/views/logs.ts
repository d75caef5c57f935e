import { html } from 'htm/preact';
import type { DeploymentView } from '../types.ts';

export function LogsTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  return html`<section class="tab">logs of ${deployment.metadata.name}</section>`;
}
