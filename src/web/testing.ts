/**
 * The dashboard's face for tests: its pure logic (no preact, no DOM), which the tests in
 * test/e2e/dashboard check in Node as well as through the page.
 */
export { diffCounts, folded, lineDiff, type DiffLine, type DiffRow } from './views/line-diff.ts';
export { applyCommand, manifestOfView, toYaml } from './views/manifest-text.ts';
export { apportion, problems, promote, setShadow, setWeight, sharesOf, withShares, type Share } from './views/rollout-plan.ts';
