/** Brokers and triggers: the broker's stream, each event's deliveries. */
import { html } from 'htm/preact';

export function EventingPage({ parts }: { parts: string[] }) {
  return html`<main><h1>Eventing</h1><p>${parts.join('/')}</p></main>`;
}
