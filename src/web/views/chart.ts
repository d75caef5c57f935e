/**
 * A uPlot time chart as a preact component. The uPlot instance is made once per set of series
 * (a new predictor or node appearing makes a new one) and otherwise only given new data
 * (`setData`) each second, and a new size when its box changes.
 */
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Values } from './traffic-data.ts';

export interface ChartLine {
  label: string;
  values: Values;
  /** Drawn dashed (p50 beside a solid p99, say). */
  dashed?: boolean;
  /** Drawn across seconds with no value (latency: a second without requests has none). */
  joined?: boolean;
}

const PALETTE = ['#2f6fdf', '#e0672b', '#2a9d5c', '#b8399a', '#8a6d1f', '#0c8fa3', '#d13f4f', '#6b5bd6'];

/** The colour of the `index`th series; `group` lets a p50 and a p99 of one key share it. */
export function colourOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export function Chart({ testid, title, unit, times, lines, height = 170, groupOf }: {
  testid: string;
  title: string;
  /** Shown on the y axis and in the legend (`req/s`, `ms`, `%`). */
  unit: string;
  /** Seconds since the epoch, one per value. */
  times: number[];
  lines: ChartLine[];
  height?: number;
  /** Series that share a colour (a key's p50 and p99): the colour index of each line. */
  groupOf?: (index: number) => number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const signature = lines.map((l) => `${l.label}${l.dashed === true ? ' (dashed)' : ''}${l.joined === true ? ' (joined)' : ''}`).join('\n');
  const data = (): uPlot.AlignedData => [times, ...lines.map((l) => l.values)] as uPlot.AlignedData;

  useEffect(() => {
    const element = box.current;
    if (element === null || lines.length === 0) return;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      // One sample has no span: uPlot would stretch the axis over years; show the minute before it instead.
      scales: { x: { time: true, range: (_u, min, max) => (max - min < 1 ? [max - 60, max] : [min, max]) }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { label: unit, size: 56 }],
      series: [
        {},
        ...lines.map((line, i) => ({
          label: line.label,
          stroke: colourOf(groupOf === undefined ? i : groupOf(i)),
          width: 1.5,
          spanGaps: line.joined === true,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${Number(v.toFixed(2))} ${unit}`),
          ...(line.dashed === true ? { dash: [5, 4] } : {}),
        })),
      ],
    };
    const made = new uPlot(options, data(), element);
    plot.current = made;
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, element.clientWidth);
      if (width !== made.width) made.setSize({ width, height });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = null;
    };
    // Made again only when the series change; new values go through setData below.
  }, [signature, height, unit]);

  useEffect(() => {
    plot.current?.setData(data());
  });

  return html`<figure class="chart" data-testid=${testid}>
    <figcaption>${title}</figcaption>
    ${lines.length === 0 ? html`<p class="chart-empty">No data yet.</p>` : null}
    <div class="chart-plot" ref=${box}></div>
  </figure>`;
}
