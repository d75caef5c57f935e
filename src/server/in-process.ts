/**
 * The TypeScript/JavaScript components of deployments that opt in with the `trantor.io/in-process`
 * annotation, loaded into the control plane. The executor's InProcessTransport calls them through
 * `LocalComponents`; loading needs `component` and the local launch plan, so it lives here.
 */
import type { Logger } from 'pino';
import type { ComponentMethod as HostMethod, Dispatcher } from '../component/index.ts';
import { createDispatcher, loadComponent, resolveHostConfig } from '../component/index.ts';
import type { ComponentMethod, LocalComponent, LocalComponents, UnitKey } from '../executor/index.ts';
import { planDeployment } from '../runtime/local/index.ts';
import type { SeldonDeployment } from '../manifest/index.ts';

/** The host's name for a method the executor calls. */
const HOST_METHODS: Readonly<Record<ComponentMethod, HostMethod>> = Object.freeze({
  predict: 'predict',
  transformInput: 'transformInput',
  transformOutput: 'transformOutput',
  route: 'route',
  aggregate: 'aggregate',
  sendFeedback: 'sendFeedback',
  metadata: 'metadata',
  health: 'healthStatus',
});

function keyOf(unit: UnitKey): string {
  return `${unit.namespace}/${unit.deployment}/${unit.predictor}/${unit.node}`;
}

function localComponent(dispatcher: Dispatcher): LocalComponent {
  return { handle: (method, payload) => dispatcher.handle(HOST_METHODS[method], payload) };
}

export class InProcessComponents implements LocalComponents {
  readonly #logger: Logger;
  readonly #env: NodeJS.ProcessEnv;
  readonly #units = new Map<string, LocalComponent>();
  /** Per UnitKey object (the executor reuses one per node), so the hot path builds no string. */
  #cache = new WeakMap<UnitKey, LocalComponent | null>();
  readonly #failures = new Map<string, string>();

  /** `env` is the environment the components' launch plans are made in (`trantor up`'s). */
  constructor(logger: Logger, env: NodeJS.ProcessEnv) {
    this.#logger = logger;
    this.#env = env;
  }

  componentOf(unit: UnitKey): LocalComponent | undefined {
    let component = this.#cache.get(unit);
    if (component === undefined) {
      component = this.#units.get(keyOf(unit)) ?? null;
      this.#cache.set(unit, component);
    }
    return component ?? undefined;
  }

  /** Why the deployment's in-process components could not load, if they could not. */
  failureOf(namespace: string, name: string): string | undefined {
    return this.#failures.get(`${namespace}/${name}`);
  }

  /** Loads (or reloads) the deployment's in-process components; failures are recorded, not thrown. */
  async activate(deployment: SeldonDeployment): Promise<void> {
    const { namespace, name } = deployment.metadata;
    this.remove(namespace, name);
    let launches;
    try {
      launches = planDeployment(deployment, { env: this.#env }).filter((l) => l.inProcess === true);
    } catch {
      return; // the runtime reports configuration errors with the deployment's status
    }
    for (const launch of launches) {
      const unit: UnitKey = { namespace, deployment: name, predictor: launch.predictor, node: launch.node };
      try {
        const config = resolveHostConfig(launch.args, launch.env, launch.cwd);
        const loaded = await loadComponent(config.interfaceName, config.cwd, config.parameters);
        this.#units.set(keyOf(unit), localComponent(createDispatcher(loaded.model, { name: loaded.name, unitId: config.unitId })));
        this.#logger.info({ namespace, name, node: launch.node, file: loaded.file }, 'serving component in process');
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.#failures.set(`${namespace}/${name}`, `node "${launch.node}" (in process): ${message}`);
      }
    }
    this.#cache = new WeakMap();
  }

  remove(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}/`;
    for (const key of [...this.#units.keys()]) if (key.startsWith(prefix)) this.#units.delete(key);
    this.#failures.delete(`${namespace}/${name}`);
    this.#cache = new WeakMap();
  }
}
