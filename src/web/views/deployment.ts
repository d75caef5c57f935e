/** One deployment: its predictors' graphs drawn, and its tabs. */
import { html } from 'htm/preact';

export function DeploymentPage({ namespace, name, tab }: { namespace: string; name: string; tab: string }) {
  return html`<main><h1>${namespace}/${name}</h1><p>${tab}</p></main>`;
}
