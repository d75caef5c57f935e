/** A new manifest, checked as it is typed, applied as `trantor apply` does. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ManifestEditor, type ApplyAnswer } from './manifest-editor.ts';

const STARTER = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: my-model
  namespace: default
spec:
  predictors:
  - name: default
    graph:
      name: classifier
      implementation: SKLEARN_SERVER
      modelUri: gs://seldon-models/v1.19.0/sklearn/iris
`;

export function ApplyPage() {
  const [applied, setApplied] = useState<ApplyAnswer['applied']>([]);
  return html`<main class="apply-page" data-testid="apply-page">
    <h1>Apply</h1>
    <p class="muted">
      Paste or write manifests (YAML or JSON; several documents separated by <code>---</code>): SeldonDeployments, Brokers,
      Triggers, Services. Each pause in typing sends them to the control plane's validator (nothing is
      stored); <em>Apply</em> sends them as <code>trantor apply -f</code> does. Relative paths (<code>modelUri</code>, <code>workingDir</code>) need an
      absolute folder: give the object the annotation <code>trantor.io/base-dir</code>, or apply the file from a terminal.
    </p>
    <${ManifestEditor} initial=${STARTER} onApplied=${(answer: ApplyAnswer) => setApplied(answer.applied)} />
    ${applied.some((a) => a.kind === 'SeldonDeployment')
      ? html`<p data-testid="applied-links">Open: ${applied.filter((a) => a.kind === 'SeldonDeployment').map((a) => html`<a href=${`#/deployments/${encodeURIComponent(a.namespace)}/${encodeURIComponent(a.name)}`}>${a.namespace}/${a.name}</a> `)}</p>`
      : null}
  </main>`;
}
