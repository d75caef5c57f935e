/**
 * Each predictor's inference graph as an SVG diagram: node kinds as shapes, what runs each node,
 * a health dot per replica, the predictor's traffic share (shadows dashed), the last second's
 * traffic per node and edge, and the path the last request tried from the page took.
 */
import { html } from 'htm/preact';
import { highlightedPath, selectedNode, traffic, useStore } from '../store.ts';
import type { DeploymentView, NodeTraffic, PredictorSpec, PredictorTraffic, ReplicaStatus, RouterTraffic, TrafficSample } from '../types.ts';
import { NODE_HEIGHT, NODE_WIDTH, SHAPE_OF, dotClass, edgeWidth, layoutGraph, millis, outline, rate, runsWhat, servedByExecutor, trafficShare, type PlacedNode } from './graph-model.ts';

/** The last sample, when it is recent (a stopped feed leaves no stale numbers on the diagram). */
function latestSample(samples: readonly TrafficSample[]): TrafficSample | undefined {
  const last = samples[samples.length - 1];
  return last !== undefined && Date.now() - last.t < 5000 ? last : undefined;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function TrafficLines({ stat, x, y }: { stat: NodeTraffic | undefined; x: number; y: number }) {
  if (stat === undefined || (stat.rps === 0 && stat.errors === 0)) return html`<text class="stat idle" x=${x} y=${y} text-anchor="middle">idle</text>`;
  return html`<text class="stat" x=${x} y=${y} text-anchor="middle" data-rps=${stat.rps}>
      ${rate(stat.rps)} req/s${stat.errors > 0 ? html`<tspan class="errors"> · ${rate(stat.errors)} err/s</tspan>` : null}
    </text>
    <text class="stat" x=${x} y=${y + 14} text-anchor="middle">p50 ${millis(stat.p50)} · p99 ${millis(stat.p99)}</text>`;
}

function NodeShape({ placed, predictor, replicas, stat, highlighted, selected, onSelect }: {
  placed: PlacedNode;
  predictor: PredictorSpec;
  replicas: ReplicaStatus[];
  stat: NodeTraffic | undefined;
  highlighted: boolean;
  selected: boolean;
  onSelect: () => void;
}) {
  const { node, kind, x, y } = placed;
  const points = outline(kind, x, y);
  const cls = `shape ${kind.toLowerCase()}`;
  const shape = points === undefined
    ? html`<rect class=${cls} data-shape=${SHAPE_OF[kind]} x=${x - NODE_WIDTH / 2} y=${y - NODE_HEIGHT / 2} width=${NODE_WIDTH} height=${NODE_HEIGHT} rx="4" />`
    : html`<polygon class=${cls} data-shape=${SHAPE_OF[kind]} points=${points} />`;
  const what = runsWhat(node, predictor);
  const dotsY = y + NODE_HEIGHT / 2 + 16;
  const first = x - ((replicas.length - 1) * 14) / 2;
  const onKey = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect();
    }
  };
  return html`<g class=${`node${highlighted ? ' hl' : ''}${selected ? ' selected' : ''}`} data-testid=${`node-${predictor.name}-${node.name}`}
      data-kind=${kind} data-highlighted=${highlighted ? 'true' : 'false'} tabindex="0" role="button" onClick=${onSelect} onKeyDown=${onKey}>
    <title>${`${kind} ${node.name}${what === '' ? '' : `\n${what}`}\n(click for details)`}</title>
    ${shape}
    <text class="kind" x=${x} y=${y - 12} text-anchor="middle">${kind}</text>
    <text class="name" x=${x} y=${y + 3} text-anchor="middle">${clip(node.name, 24)}</text>
    <text class="what" x=${x} y=${y + 17} text-anchor="middle">${clip(what, 30)}</text>
    ${replicas.length === 0
      ? html`<text class="executor" x=${x} y=${dotsY + 4} text-anchor="middle">${servedByExecutor(node) ? 'in the executor' : 'no replica'}</text>`
      : replicas.map((r, i) => html`<circle class=${`dot ${dotClass(r.state)}`} data-testid=${`dot-${r.id}`} data-state=${r.state}
          cx=${first + i * 14} cy=${dotsY} r="5"><title>${`${r.id}: ${r.state}${r.restarts > 0 ? `, ${r.restarts} restarts` : ''}${r.message === undefined ? '' : `\n${r.message}`}`}</title></circle>`)}
    <${TrafficLines} stat=${stat} x=${x} y=${dotsY + 20} />
  </g>`;
}

/** A router's share of choices for one child since the control plane started, and its mean reward when feedback came. */
function routeChoice(router: RouterTraffic | undefined, branch: number): string | undefined {
  if (router === undefined || branch < 0) return undefined;
  const total = router.branches.reduce((n, b) => n + b.chosen, 0);
  const mine = router.branches.find((b) => b.branch === branch);
  if (total === 0 || mine === undefined) return undefined;
  const share = `${Math.round((mine.chosen / total) * 100)}% chosen`;
  return mine.feedback > 0 ? `${share} · reward ${(mine.reward / mine.feedback).toFixed(2)}` : share;
}

export function PredictorGraph({ deployment, predictor }: { deployment: DeploymentView; predictor: PredictorSpec }) {
  const samples = useStore(traffic);
  const path = useStore(highlightedPath);
  const selected = useStore(selectedNode);
  const { namespace, name } = deployment.metadata;
  const layout = layoutGraph(predictor.graph);
  const sample = latestSample(samples);
  const stats = new Map<string, NodeTraffic>();
  const routers = new Map<string, RouterTraffic>();
  let predictorStat: PredictorTraffic | undefined;
  if (sample !== undefined) {
    for (const s of sample.nodes) if (s.namespace === namespace && s.deployment === name && s.predictor === predictor.name) stats.set(s.node, s);
    for (const r of sample.routers) if (r.namespace === namespace && r.deployment === name && r.predictor === predictor.name) routers.set(r.node, r);
    predictorStat = sample.predictors.find((s) => s.namespace === namespace && s.deployment === name && s.predictor === predictor.name);
  }
  const onPath = new Set<string>(
    path !== undefined && path.namespace === namespace && path.deployment === name && (path.predictor === undefined || path.predictor === predictor.name) ? path.nodes : [],
  );
  const replicas = deployment.status.replicas ?? [];
  const share = trafficShare(predictor, deployment.spec.predictors);
  const shadow = predictor.shadow === true;
  const byName = new Map(layout.nodes.map((n) => [n.node.name, n]));
  const edges = layout.edges.map((e) => {
    const from = byName.get(e.from)!;
    const to = byName.get(e.to)!;
    const rps = stats.get(e.to)?.rps ?? 0;
    const errors = (stats.get(e.to)?.errors ?? 0) > 0;
    const hl = onPath.has(e.from) && onPath.has(e.to);
    const y1 = from.y + NODE_HEIGHT / 2 + 58;
    const y2 = to.y - NODE_HEIGHT / 2 - 8;
    const mid = (y1 + y2) / 2;
    const path = html`<path class=${`edge${hl ? ' hl' : ''}${errors ? ' failing' : ''}`} data-testid=${`edge-${predictor.name}-${e.from}-${e.to}`} data-rps=${rps}
      d=${`M${from.x},${y1} C${from.x},${mid} ${to.x},${mid} ${to.x},${y2}`} stroke-width=${edgeWidth(rps)} />`;
    // Beside its edge's middle, drawn after every edge so none crosses it.
    const choice = routeChoice(routers.get(e.from), from.node.children?.findIndex((c) => c.name === e.to) ?? -1);
    const label = choice === undefined ? null : html`<text class="route" data-testid=${`route-${predictor.name}-${e.from}-${e.to}`} 
      x=${(from.x + to.x) / 2 + (to.x < from.x ? -8 : 8)} y=${mid + 4} text-anchor=${to.x < from.x ? 'end' : 'start'}>${choice}</text>`;
    return { path, label };
  });
  return html`<figure class=${`predictor${shadow ? ' shadow' : ''}`} data-testid=${`predictor-${predictor.name}`} data-shadow=${shadow ? 'true' : 'false'}>
    <figcaption>
      <strong>${predictor.name}</strong>
      <span class="share" data-testid=${`traffic-${predictor.name}`}>${shadow ? 'shadow (gets a copy of every request)' : share === undefined ? 'no traffic share' : `${share}% of traffic`}</span>
      ${predictorStat === undefined ? null : html`<span class="pstat">${rate(predictorStat.rps)} req/s · p50 ${millis(predictorStat.p50)} · p99 ${millis(predictorStat.p99)}${predictorStat.errors > 0 ? html` · <span class="errors">${rate(predictorStat.errors)} err/s</span>` : null}</span>`}
    </figcaption>
    <svg class="graph" width=${layout.width} height=${layout.height} viewBox=${`0 0 ${layout.width} ${layout.height}`} role="img"
        aria-label=${`graph of predictor ${predictor.name}`}>
      ${edges.map((e) => e.path)}
      ${edges.map((e) => e.label)}
      ${layout.nodes.map((n) => html`<${NodeShape} key=${n.node.name} placed=${n} predictor=${predictor}
          replicas=${replicas.filter((r) => r.predictor === predictor.name && r.node === n.node.name).sort((a, b) => a.index - b.index)}
          stat=${stats.get(n.node.name)} highlighted=${onPath.has(n.node.name)}
          selected=${selected !== undefined && selected.namespace === namespace && selected.deployment === name && selected.predictor === predictor.name && selected.node === n.node.name}
          onSelect=${() => selectedNode.set({ namespace, deployment: name, predictor: predictor.name, node: n.node.name })} />`)}
    </svg>
  </figure>`;
}

/** Every predictor's diagram, side by side when they fit. */
export function DeploymentGraphs({ deployment }: { deployment: DeploymentView }) {
  return html`<div class="graphs" data-testid="graphs">
    ${deployment.spec.predictors.map((p) => html`<${PredictorGraph} key=${p.name} deployment=${deployment} predictor=${p} />`)}
  </div>`;
}
