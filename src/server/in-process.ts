/**
 * TypeScript/JavaScript components served inside the control plane, for deployments that opt
 * in with the `trantor.io/in-process` annotation: the executor calls the model's dispatcher
 * directly instead of crossing a second HTTP hop. Other units go to the fallback transport.
 */
import type { Logger } from 'pino';
import type { ComponentMethod, Dispatcher } from '../component/index.ts';
import { createDispatcher, instantiate, loadComponentExport, resolveHostConfig } from '../component/index.ts';
import type { CallOptions, Transport, TransportResponse, UnitKey } from '../executor/index.ts';
import { failureBody, parseJsonLossless, stringifyJson, TrantorError } from '../protocol/index.ts';
import { planDeployment } from '../runtime/local/index.ts';
import type { SeldonDeployment } from '../spec/index.ts';

const METHODS: ReadonlyMap<string, ComponentMethod> = new Map([
  ['/predict', 'predict'],
  ['/transform-input', 'transformInput'],
  ['/transform-output', 'transformOutput'],
  ['/route', 'route'],
  ['/aggregate', 'aggregate'],
  ['/send-feedback', 'sendFeedback'],
  ['/health/status', 'healthStatus'],
  ['/metadata', 'metadata'],
]);

function keyOf(unit: UnitKey): string {
  return `${unit.namespace}/${unit.deployment}/${unit.predictor}/${unit.node}`;
}

export class InProcessTransport implements Transport {
  readonly #fallback: Transport;
  readonly #logger: Logger;
  readonly #units = new Map<string, Dispatcher>();
  /** Per UnitKey object (the executor reuses one per node), so the hot path builds no string. */
  #cache = new WeakMap<UnitKey, Dispatcher | null>();
  readonly #failures = new Map<string, string>();

  constructor(fallback: Transport, logger: Logger) {
    this.#fallback = fallback;
    this.#logger = logger;
  }

  async call(unit: UnitKey, path: string, body: string, options: CallOptions): Promise<TransportResponse> {
    let dispatcher = this.#cache.get(unit);
    if (dispatcher === undefined) {
      dispatcher = this.#units.get(keyOf(unit)) ?? null;
      this.#cache.set(unit, dispatcher);
    }
    if (dispatcher === null) return this.#fallback.call(unit, path, body, options);
    const method = METHODS.get(path);
    if (method === undefined) {
      return { status: 404, body: JSON.stringify(failureBody(new TrantorError('NOT_FOUND', `no such component path ${path}`))) };
    }
    let parsed: unknown;
    try {
      parsed = body === '' ? undefined : parseJsonLossless(body);
    } catch (err) {
      return { status: 400, body: JSON.stringify(failureBody(new TrantorError('BAD_JSON', `body: not valid JSON (${String(err)})`))) };
    }
    const reply = await dispatcher.handle(method, parsed);
    // The reply is a fresh value the executor may read as it is; the text is made only if asked for.
    const value = reply.body;
    let text: string | undefined;
    return {
      status: reply.status,
      value,
      get body(): string {
        text ??= stringifyJson(value);
        return text;
      },
    };
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
      launches = planDeployment(deployment, { env: process.env }).filter((l) => l.inProcess === true);
    } catch {
      return; // the runtime reports configuration errors with the deployment's status
    }
    for (const launch of launches) {
      const unit: UnitKey = { namespace, deployment: name, predictor: launch.predictor, node: launch.node };
      try {
        const config = resolveHostConfig(launch.args, launch.env, launch.cwd);
        const { file, exportName, value } = await loadComponentExport(config.interfaceName, config.cwd);
        const model = instantiate(value, config.parameters, `${exportName} (${file})`);
        if (typeof model.load === 'function') await model.load();
        this.#units.set(keyOf(unit), createDispatcher(model, { name: exportName, unitId: config.unitId }));
        this.#logger.info({ namespace, name, node: launch.node, file }, 'serving component in process');
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

  close(): Promise<void> {
    return this.#fallback.close();
  }
}
