import { html } from 'htm/preact';
import type { DeploymentView } from '../types.ts';

export function TryTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  return html`<section class="tab">try of ${deployment.metadata.name}</section>`;
}
