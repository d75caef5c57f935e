/**
 * Rollout: each predictor's traffic weight (the live ones held at a sum of 100), the shadow toggle,
 * promoting a canary. Nothing is applied until the manifest diff (stored → changed) has been seen
 * and confirmed; then the changed manifest goes to `POST /v1/apply`, as `trantor apply` sends it.
 */
import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import type { DeploymentView } from '../types.ts';
import { applyManifest, DiffView, type ApplyAnswer } from './manifest-editor.ts';
import { manifestOfView, toYaml } from './manifest-text.ts';
import { problems, promote, setShadow, setWeight, sharesOf, withShares, type Share } from './rollout-plan.ts';

type Stage =
  | { step: 'edit' }
  | { step: 'review' }
  | { step: 'applying' }
  | { step: 'done'; answer: ApplyAnswer }
  | { step: 'failed'; message: string };

function sameShares(a: Share[], b: Share[]): boolean {
  return a.length === b.length && a.every((s, i) => s.name === b[i]!.name && s.traffic === b[i]!.traffic && s.shadow === b[i]!.shadow);
}

export function RolloutTab({ deployment }: { deployment: DeploymentView; node?: string | undefined }) {
  // Another deployment starts its own edit.
  return html`<${Rollout} key=${`${deployment.metadata.namespace}/${deployment.metadata.name}`} deployment=${deployment} />`;
}

function Rollout({ deployment }: { deployment: DeploymentView }) {
  const stored = useMemo(() => manifestOfView(deployment), [deployment]);
  const storedYaml = useMemo(() => toYaml(stored), [stored]);
  const storedShares = useMemo(() => sharesOf(deployment.spec.predictors), [deployment]);
  const [shares, setShares] = useState<Share[]>(storedShares);
  const [baseline, setBaseline] = useState<Share[]>(storedShares);
  const [stage, setStage] = useState<Stage>({ step: 'edit' });

  // The stored deployment changed (applied here or elsewhere): unedited shares follow it.
  useEffect(() => {
    if (sameShares(storedShares, baseline)) return;
    setShares((current) => (sameShares(current, baseline) ? storedShares : current));
    setBaseline(storedShares);
  }, [storedShares, baseline]);

  const edited = !sameShares(shares, storedShares);
  const wrong = problems(shares);
  const changed = useMemo(() => withShares(stored, shares), [stored, shares]);
  const changedYaml = useMemo(() => toYaml(changed), [changed]);
  const liveCount = shares.filter((s) => !s.shadow).length;
  const editing = stage.step === 'edit' || stage.step === 'done' || stage.step === 'failed';

  const change = (next: Share[]): void => {
    setShares(next);
    if (stage.step === 'done' || stage.step === 'failed') setStage({ step: 'edit' });
  };
  const apply = (): void => {
    setStage({ step: 'applying' });
    applyManifest(JSON.stringify(changed), false).then(
      (answer) => setStage({ step: 'done', answer }),
      (err: unknown) => setStage({ step: 'failed', message: err instanceof ApiError ? `${err.status} ${err.reason}: ${err.message}` : `the control plane could not be reached: ${(err as Error).message}` }),
    );
  };

  const row = (s: Share) => {
    const lone = !s.shadow && liveCount === 1;
    return html`<tr data-testid=${`predictor-${s.name}`} class=${s.shadow ? 'shadow' : ''}>
      <td><code>${s.name}</code></td>
      <td class="weight">
        <input type="range" min="0" max="100" step="1" value=${s.traffic} disabled=${s.shadow || lone || !editing}
          aria-label=${`traffic of ${s.name}`} data-testid=${`slider-${s.name}`}
          onInput=${(e: Event) => change(setWeight(shares, s.name, Number((e.target as HTMLInputElement).value)))} />
        <input type="number" min="0" max="100" step="1" value=${s.traffic} disabled=${s.shadow || lone || !editing}
          aria-label=${`traffic % of ${s.name}`} data-testid=${`weight-${s.name}`}
          onChange=${(e: Event) => {
            const input = e.target as HTMLInputElement;
            const value = Number(input.value);
            if (input.value.trim() === '' || !Number.isFinite(value)) input.value = String(s.traffic);
            else change(setWeight(shares, s.name, value));
          }} />
        <span class="pct">${s.shadow ? 'copy' : `${s.traffic}%`}</span>
      </td>
      <td>
        <label><input type="checkbox" checked=${s.shadow} disabled=${!editing} data-testid=${`shadow-${s.name}`}
          onChange=${(e: Event) => change(setShadow(shares, s.name, (e.target as HTMLInputElement).checked))} /> shadow</label>
      </td>
      <td>
        <button type="button" data-testid=${`promote-${s.name}`} disabled=${!editing || shares.length === 1}
          title="It takes 100% of the traffic; the other predictors that serve traffic are removed (a shadow stays)"
          onClick=${() => change(promote(shares, s.name))}>Promote</button>
      </td>
    </tr>`;
  };

  const removedNames = storedShares.filter((s) => !shares.some((t) => t.name === s.name)).map((s) => s.name);
  return html`<section class="tab rollout-tab" data-testid="rollout-tab">
    <p class="muted">
      Moving one predictor's weight shares the rest among the other predictors that serve traffic, in proportion to their
      weights now, so the total stays at 100%. A <em>shadow</em> gets a copy of every request and no share (its answers are
      thrown away; at most one). <em>Promote</em> gives a predictor 100% and removes the other predictors that serve traffic,
      as promoting a canary does in Seldon; a shadow stays. Nothing changes until you review the manifest diff and apply it.
    </p>
    <table class="rollout-table">
      <thead><tr><th>predictor</th><th>traffic</th><th>shadow</th><th></th></tr></thead>
      <tbody>${shares.map(row)}</tbody>
    </table>
    ${removedNames.length === 0 ? null : html`<p class="removed" data-testid="removed">Removed when applied: ${removedNames.join(', ')}</p>`}
    ${wrong.length === 0 ? null : html`<ul class="problems bad" data-testid="rollout-problems">${wrong.map((p) => html`<li>${p}</li>`)}</ul>`}
    <div class="rollout-actions">
      ${editing
        ? html`<button type="button" class="primary" data-testid="review-button" disabled=${!edited || wrong.length > 0} onClick=${() => setStage({ step: 'review' })}>Review changes…</button>`
        : null}
      ${edited && editing ? html`<button type="button" data-testid="undo-button" onClick=${() => change(storedShares)}>Undo</button>` : null}
    </div>
    ${stage.step === 'review' || stage.step === 'applying'
      ? html`<div class="review" data-testid="rollout-review">
          <h3>The manifest: stored → changed</h3>
          <${DiffView} before=${storedYaml} after=${changedYaml} testid="rollout-diff" />
          <div class="rollout-actions">
            <button type="button" class="primary" data-testid="confirm-apply" disabled=${stage.step === 'applying'} onClick=${apply}>${stage.step === 'applying' ? 'Applying…' : 'Apply'}</button>
            <button type="button" data-testid="cancel-review" disabled=${stage.step === 'applying'} onClick=${() => setStage({ step: 'edit' })}>Back</button>
          </div>
        </div>`
      : null}
    ${stage.step === 'done'
      ? html`<p class="outcome ok" data-testid="rollout-result" data-state="ok">
          Applied: ${stage.answer.applied.map((a) => `${a.kind} ${a.namespace}/${a.name} ${a.action}`).join('; ')}
          ${(stage.answer.warnings ?? []).map((w) => html`<br /><span class="warn">${w}</span>`)}
        </p>`
      : null}
    ${stage.step === 'failed' ? html`<p class="outcome bad" data-testid="rollout-result" data-state="error">Not applied: ${stage.message}</p>` : null}
  </section>`;
}
