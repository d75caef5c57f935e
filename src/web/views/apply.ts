/** A new manifest, checked as it is typed, applied as `trantor apply` does. */
import { html } from 'htm/preact';

export function ApplyPage() {
  return html`<main><h1>Apply</h1></main>`;
}
