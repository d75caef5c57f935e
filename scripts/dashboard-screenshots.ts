/**
 * `npm run screenshots`: the pictures in docs/dashboard.md, made as a user would see them — a real
 * `trantor up` in a fresh home with the examples applied (iris, the A/B test graph, a broker with a
 * trigger to the iris deployment), some traffic and an event sent, then each view opened in a real
 * headless Chromium and saved to docs/dashboard/<view>.png.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, Trantor, postJson, waitFor } from '../test/e2e/harness.ts';
import { openDashboard } from '../test/e2e/dashboard/browser.ts';

const OUT = join(ROOT, 'docs', 'dashboard');

const BROKER = `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default, namespace: default}
`;

interface Shot {
  file: string;
  hash: string;
  /** What to wait for (a selector) once the view is open, and what to do before the picture. */
  ready?: string;
  act?: (page: Page) => Promise<void>;
}

const SHOTS: Shot[] = [
  { file: 'overview.png', hash: '#/', ready: '[data-testid=overview-deployments] >> text=iris-abtest' },
  {
    file: 'graph.png',
    hash: '#/deployments/default/iris-abtest/graph',
    ready: '[data-testid=node-default-ab-test]',
    act: async (page) => {
      await page.click('[data-testid=node-default-iris-proba]');
      await page.waitForSelector('[data-testid=node-parameters]');
    },
  },
  { file: 'traffic.png', hash: '#/deployments/default/iris-abtest/traffic', ready: '[data-testid=traffic-tab] canvas' },
  {
    file: 'try.png',
    hash: '#/deployments/seldon/iris-model/try',
    ready: '[data-testid=try-send]',
    act: async (page) => {
      await page.click('[data-testid=try-send]');
      await page.waitForSelector('[data-testid=answer-puid]');
    },
  },
  {
    file: 'requests.png',
    hash: '#/deployments/default/iris-abtest/requests',
    ready: '[data-testid=request-row]',
    act: async (page) => {
      await page.click('[data-testid=request-row]');
      await page.waitForSelector('[data-testid=request-detail]');
    },
  },
  { file: 'logs.png', hash: '#/deployments/seldon/iris-model/logs', ready: '[data-testid=log-line]' },
  { file: 'rollout.png', hash: '#/deployments/default/canary/rollout', ready: '[data-testid=rollout-tab]' },
  { file: 'manifest.png', hash: '#/deployments/seldon/iris-model/manifest', ready: '[data-testid=manifest-check]' },
  {
    file: 'eventing.png',
    hash: '#/eventing/default/default',
    ready: '[data-testid=event-row]:has-text("screenshot-1")',
    act: async (page) => {
      // The event sent, not the reply the deployment published back to the broker.
      await page.click('[data-testid=event-row]:has-text("screenshot-1")');
      await page.waitForSelector('[data-testid=delivery-attempt]');
    },
  },
  { file: 'apply.png', hash: '#/apply', ready: '[data-testid=manifest-check]' },
];

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const trantor = new Trantor();
  try {
    await trantor.up();
    const broker = join(trantor.home, 'broker.yaml');
    writeFileSync(broker, BROKER);
    for (const file of [join(ROOT, 'examples/iris/iris.yaml'), join(ROOT, 'examples/graphs/abtest.yaml'), join(ROOT, 'examples/graphs/traffic.yaml'), join(ROOT, 'examples/eventing/iris-deployment.yaml'), broker, join(ROOT, 'examples/eventing/seldon-trigger.yaml')]) {
      trantor.applyAndWait(file);
    }
    const dashboard = await openDashboard(trantor, { viewport: { width: 1280, height: 860 } });
    // Traffic while the page is open, so the charts and the inspector have something to show.
    const rows = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]];
    // Paced over ten seconds, so the charts have a line rather than a point.
    for (let i = 0; i < 100; i++) {
      const row = rows[i % rows.length]!;
      await postJson(trantor.url('default', 'iris-abtest'), { data: { ndarray: [row] } });
      await postJson(trantor.url('seldon', 'iris-model'), { data: { ndarray: [row] } });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const event = await fetch(`${trantor.gateway}/default/default`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'screenshot-1', 'ce-source': 'docs', 'ce-type': 'seldon.iris-deployment.default.request' },
      body: JSON.stringify({ data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } }),
    });
    if (event.status >= 300) throw new Error(`the broker answered ${event.status}`);
    await waitFor('the event delivered to iris-deployment', () => trantor.cli(['get', 'triggers', '-o', 'jsonpath={.items[0].status.deliveries.delivered}']).stdout.trim() === '1', 30_000);

    const page = dashboard.page;
    for (const shot of SHOTS) {
      await page.goto(`${trantor.gateway}/${shot.hash}`);
      await page.waitForSelector('[data-testid=live]:text("live")');
      if (shot.ready !== undefined) await page.waitForSelector(shot.ready, { timeout: 15_000 });
      await shot.act?.(page);
      await page.screenshot({ path: join(OUT, shot.file) });
      process.stdout.write(`docs/dashboard/${shot.file}\n`);
    }
    await dashboard.close();
  } finally {
    await trantor.close();
  }
}

await main();
