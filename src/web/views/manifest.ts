/** The deployment's manifest as stored, in the editor: checked as it is typed, diffed, applied. */
import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import type { DeploymentView } from '../types.ts';
import { ManifestEditor } from './manifest-editor.ts';
import { manifestOfView, toYaml } from './manifest-text.ts';

export function ManifestTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  // The view without its status and server-set metadata: applying it again changes nothing.
  const stored = useMemo(() => toYaml(manifestOfView(deployment)), [deployment]);
  return html`<section class="tab manifest-tab" data-testid="manifest-tab">
    <p class="muted">
      The manifest of <code>${deployment.metadata.namespace}/${deployment.metadata.name}</code> as stored (defaults filled in,
      no <code>status</code>). Edit it here: each pause in typing sends it to the control plane's validator, which stores
      nothing; <em>Apply</em> sends it as <code>trantor apply</code> does.
    </p>
    <${ManifestEditor} key=${`${deployment.metadata.namespace}/${deployment.metadata.name}`} initial=${stored} stored=${stored} />
  </section>`;
}
