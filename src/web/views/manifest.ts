import { html } from 'htm/preact';
import type { DeploymentView } from '../types.ts';

export function ManifestTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  return html`<section class="tab">manifest of ${deployment.metadata.name}</section>`;
}
