/**
 * For tests: the SeldonDeployment manifests render() is pinned against — every example, the seeds'
 * (as the seeds print them) and the features fixture — each with a name for its golden file.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadManifests } from '../../manifest/index.ts';
import { NOTEBOOK_DEPLOYMENT } from '../../../test/seed-manifests.ts';
import { DEFAULT_RENDER_CONFIG } from './config.ts';
import { render } from './render.ts';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const TESTDATA = join(import.meta.dirname, 'testdata');

export interface ManifestSource {
  /** `examples-graphs-abtest`, `seed-notebook`… */
  readonly name: string;
  readonly text: string;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      // An MLflow model folder's conda.yaml and python_env.yaml are not manifests.
      if (statSync(path).isDirectory()) return existsSync(join(path, 'MLmodel')) ? [] : yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}

/** Every example manifest file, then the seeds' SeldonDeployments. */
export function exampleAndSeedManifests(): ManifestSource[] {
  return [
    ...yamlFiles(join(ROOT, 'examples')).map((file) => ({ name: relative(ROOT, file).replace(/\.ya?ml$/, '').replaceAll('/', '-'), text: readFileSync(file, 'utf8') })),
    { name: 'seed-notebook', text: NOTEBOOK_DEPLOYMENT },
    { name: 'seed-sample', text: readFileSync(join(TESTDATA, 'seed-sample.yaml'), 'utf8') },
  ];
}

/** testdata/features.yaml: what render does beyond the examples. */
export function featuresManifest(): ManifestSource {
  return { name: 'features', text: readFileSync(join(TESTDATA, 'features.yaml'), 'utf8') };
}

/** A container of a rendered Deployment, with the fields the pod commands' tests read. */
export interface RenderedContainer {
  readonly name: string;
  readonly image: string;
  readonly command: string[];
  readonly args: string[];
  readonly env: { name: string; value: string }[];
}

/** The containers named `name` in the Deployments render() makes for the one SeldonDeployment in `manifest` (default settings). */
export function renderedContainers(manifest: string, name: string): RenderedContainer[] {
  const sdep = loadManifests(manifest).deployments[0]!;
  return render(sdep, DEFAULT_RENDER_CONFIG)
    .objects.filter((object) => object.kind === 'Deployment')
    .flatMap((object) => (object.spec['template'] as { spec: { containers: RenderedContainer[] } }).spec.containers)
    .filter((container) => container.name === name);
}
