/**
 * The dashboard's shell: logs in with the link's one-time code, opens the live feed, and shows the
 * page the location's hash names (`#/`, `#/deployments/<ns>/<name>/<tab>`, `#/eventing/…`, `#/apply`).
 */
import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, login, onLoggedOut, openFeed } from './api.ts';
import { connected, receive, useStore } from './store.ts';
import { OverviewPage } from './views/overview.ts';
import { DeploymentPage } from './views/deployment.ts';
import { EventingPage } from './views/eventing.ts';
import { ApplyPage } from './views/apply.ts';
import { parseRoute, type Route } from './routes.ts';

function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const onHash = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function LoggedOut({ problem }: { problem: string | undefined }) {
  return html`<main class="login">
    <h1>Trantor</h1>
    ${problem === undefined ? null : html`<p class="problem">${problem}</p>`}
    <p>This dashboard needs a login link. In a terminal, run</p>
    <pre class="command">trantor dashboard</pre>
    <p>It opens this page logged in (or prints the link with <code>--no-open</code>).</p>
  </main>`;
}

function App() {
  const route = useRoute();
  const live = useStore(connected);
  const [session, setSession] = useState(currentSession());
  const [problem, setProblem] = useState<string | undefined>(undefined);

  useEffect(() => onLoggedOut(() => {
    setSession(null);
    setProblem('The session ended (the control plane restarted, or it expired).');
  }), []);

  useEffect(() => {
    if (session === null) return;
    const stop = new AbortController();
    openFeed(receive, (up) => connected.set(up), stop.signal);
    return () => stop.abort();
  }, [session]);

  if (session === null) return html`<${LoggedOut} problem=${problem} />`;
  const page =
    route.page === 'deployment' ? html`<${DeploymentPage} namespace=${route.parts[0]} name=${route.parts[1]} tab=${route.parts[2] ?? 'graph'} />`
    : route.page === 'eventing' ? html`<${EventingPage} parts=${route.parts} />`
    : route.page === 'apply' ? html`<${ApplyPage} />`
    : html`<${OverviewPage} />`;
  return html`<div class="shell">
    <header class="top">
      <a class="brand" href="#/">Trantor</a>
      <nav>
        <a href="#/" class=${route.page === 'overview' || route.page === 'deployment' ? 'active' : ''}>Deployments</a>
        <a href="#/eventing" class=${route.page === 'eventing' ? 'active' : ''}>Eventing</a>
        <a href="#/apply" class=${route.page === 'apply' ? 'active' : ''}>Apply</a>
      </nav>
      <span class=${`live ${live ? 'on' : 'off'}`} title=${live ? 'live updates' : 'reconnecting'} data-testid="live">${live ? 'live' : 'offline'}</span>
    </header>
    ${page}
  </div>`;
}

/** `#login=<code>` from `trantor dashboard`: redeemed once, then removed from the address bar and history. */
async function start(): Promise<void> {
  const match = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash);
  let problem: string | undefined;
  if (match !== null) {
    history.replaceState(null, '', `${location.pathname}#/`);
    try {
      await login(match[1]!);
    } catch (err) {
      problem = `That login link did not work: ${(err as Error).message}`;
    }
  }
  const root = document.getElementById('app')!;
  root.textContent = '';
  render(problem === undefined ? html`<${App} />` : html`<${LoggedOut} problem=${problem} />`, root);
}

void start();
