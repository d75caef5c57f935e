/**
 * The control plane's side of eventing: applied Brokers, Triggers, Services and apps/v1
 * Deployments, kept on disk, and each Trigger's subscriber resolved to a URI — a
 * SeldonDeployment through its address (Knative's Addressable), a Service through the local
 * sink registered for it (`trantor event-display`), a Broker through its ingress, a URI as is.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import type { Eventing, TriggerBinding } from '../eventing/index.ts';
import { eventToJsonText, TrantorError } from '../protocol/index.ts';
import type {
  AppliedObject,
  ApplyAction,
  Broker,
  BrokerDefaults,
  BrokerView,
  ConfigMap,
  ConfigMapView,
  DeliverySpec,
  Deployment,
  Destination,
  KubeDeploymentView,
  Service,
  ServiceView,
  Trigger,
  TriggerView, LoadOptions, LoadedManifests, ObjectEventRecorder
} from '../manifest/index.ts';
import { BUILT_IN_DELIVERY, DEFAULT_MAX_REPLICAS, brokerDefaultsOf, defaultDeliveryFor, loadManifests, manifestOf } from '../manifest/index.ts';
import type { EventingOps } from './api.ts';
import { brokerStatus, triggerStatus, viewOf } from './views.ts';
import { Changes } from './watch.ts';
import { readEnvelope, reasonOf, type ManifestStore, type RestoreReport, type SkippedFile, type Stored, type StoredFile } from './store.ts';

type Kind = 'Broker' | 'Trigger' | 'Service' | 'Deployment' | 'ConfigMap';

const PLURAL: Record<Kind, string> = { Broker: 'brokers', Trigger: 'triggers', Service: 'services', Deployment: 'kubedeployments', ConfigMap: 'configmaps' };

/** Where `loadManifests` puts each kind. */
const LOADED: Record<Kind, keyof LoadedManifests> = { Broker: 'brokers', Trigger: 'triggers', Service: 'services', Deployment: 'kubeDeployments', ConfigMap: 'configMaps' };

interface Objects {
  Broker: Map<string, Stored<Broker>>;
  Trigger: Map<string, Stored<Trigger>>;
  Service: Map<string, Stored<Service>>;
  Deployment: Map<string, Stored<Deployment>>;
  /** Only Knative's broker defaults, `knative-eventing/config-br-defaults`. */
  ConfigMap: Map<string, Stored<ConfigMap>>;
}

interface Resolution {
  uri?: string;
  reason?: string;
}

export interface EventingControlOptions {
  eventing: Eventing;
  store: ManifestStore;
  logger: Logger;
  /** The address of a SeldonDeployment, or undefined when there is none of that name. */
  deploymentAddress: (namespace: string, name: string) => string | undefined;
  /** The gateway's base URL; '' until it listens, and addresses through it do not resolve yet. */
  gatewayUrl: () => string;
  /** Limits stored objects are checked against again on restore; `maxReplicas` defaults to DEFAULT_MAX_REPLICAS. */
  maxReplicas?: number;
  /** Where the Kubernetes-style Event of a deletion goes; nowhere when absent. */
  recorder?: ObjectEventRecorder;
}

/** A local process receiving a Service's events (`trantor event-display`). */
interface SinkObject {
  metadata: { namespace: string; name: string };
  url: string;
}

const SINKS = 'sinks';

/** A broker default without a delivery spec: one attempt, no dead-letter sink. */
const NO_RETRIES: DeliverySpec = Object.freeze({ ...BUILT_IN_DELIVERY, retry: 0 });

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export class EventingControl implements EventingOps {
  readonly #objects: Objects = { Broker: new Map(), Trigger: new Map(), Service: new Map(), Deployment: new Map(), ConfigMap: new Map() };
  /** Knative's broker defaults as applied (`config-br-defaults`); undefined: the built-in ones. */
  #brokerDefaults: BrokerDefaults | undefined;
  readonly #sinks = new Map<string, string>();
  readonly #options: EventingControlOptions;
  readonly #changes = new Changes();
  /** When the implicit default brokers came to be: when this control plane started. */
  readonly #startedAt = new Date().toISOString();
  /**
   * Triggers whose stored file could not be restored: their pending deliveries are kept (not
   * dropped as a deleted trigger's are), so applying the trigger again resumes them.
   */
  readonly #unrestoredTriggers = new Set<string>();
  constructor(options: EventingControlOptions) {
    this.#options = options;
  }

  /**
   * Brings back the stored brokers, triggers, services, Deployments and sinks, each checked as
   * `apply` checks it; a file that fails is skipped and reported, and the others come back.
   */
  async restore(): Promise<RestoreReport> {
    let restored = 0;
    const skipped: SkippedFile[] = [];
    const sinks = await this.#options.store.files(SINKS);
    skipped.push(...sinks.skipped);
    for (const file of sinks.files) {
      try {
        this.#sinks.set(key(file.namespace, file.name), sinkUrlOf(file));
      } catch (err) {
        skipped.push({ file: file.file, reason: reasonOf(err) });
      }
    }
    for (const kind of Object.keys(PLURAL) as Kind[]) {
      const map = this.#objects[kind] as Map<string, Stored<unknown>>;
      const stored = await this.#options.store.files(PLURAL[kind]);
      skipped.push(...stored.skipped);
      if (kind === 'Trigger') for (const bad of stored.skipped) this.#unrestoredTriggers.add(keyOfPath(bad.file));
      for (const file of stored.files) {
        try {
          map.set(key(file.namespace, file.name), this.#reread(kind, file));
          restored++;
        } catch (err) {
          skipped.push({ file: file.file, reason: reasonOf(err) });
          if (kind === 'Trigger') this.#unrestoredTriggers.add(key(file.namespace, file.name));
        }
      }
    }
    await this.resolve();
    return { restored, skipped };
  }

  /** A stored object of `kind`, checked again; throws what is wrong with it. */
  #reread(kind: Kind, file: StoredFile): Stored<unknown> {
    const { value, createdAt } = readEnvelope(file.text, 'object');
    const options: LoadOptions = { maxReplicas: this.#options.maxReplicas ?? DEFAULT_MAX_REPLICAS };
    if (typeof value['baseDir'] === 'string') options.baseDir = value['baseDir'];
    const loaded = loadManifests(JSON.stringify(manifestOf(value)), options);
    const objects = loaded.deployments.length + loaded.brokers.length + loaded.triggers.length + loaded.services.length + loaded.kubeDeployments.length + loaded.configMaps.length;
    const list: readonly { metadata: { namespace: string; name: string } }[] = loaded[LOADED[kind]];
    const object = list[0];
    if (object === undefined || objects !== 1) throw new Error(`expected one ${kind}`);
    const { namespace, name } = object.metadata;
    if (namespace !== file.namespace || name !== file.name) {
      throw new Error(`holds ${kind} ${namespace}/${name}, not the ${file.namespace}/${file.name} its path names`);
    }
    return { object, createdAt };
  }

  /** Stores the objects (or, with `dryRun`, only says what storing them would do). */
  async apply(objects: { brokers: Broker[]; triggers: Trigger[]; services: Service[]; kubeDeployments: Deployment[]; configMaps: ConfigMap[] }, dryRun = false): Promise<AppliedObject[]> {
    const applied: AppliedObject[] = [];
    const put = async <T extends { metadata: { namespace: string; name: string } }>(kind: Kind, object: T): Promise<void> => {
      const { namespace, name } = object.metadata;
      const map = this.#objects[kind] as unknown as Map<string, Stored<T>>;
      // A broker applied as `get -o yaml` printed the implicit default one is that broker, not a new one.
      const previous = map.get(key(namespace, name)) ?? (kind === 'Broker' ? (this.#implicitBroker(namespace, name) as Stored<T> | undefined) : undefined);
      let action: ApplyAction = 'created';
      if (previous !== undefined) action = JSON.stringify(previous.object) === JSON.stringify(object) ? 'unchanged' : 'configured';
      applied.push({ kind, namespace, name, action });
      if (dryRun) return;
      const entry: Stored<T> = { object, createdAt: previous?.createdAt ?? new Date().toISOString() };
      await this.#options.store.saveObject(PLURAL[kind], namespace, name, entry);
      map.set(key(namespace, name), entry);
      if (kind === 'Trigger') this.#unrestoredTriggers.delete(key(namespace, name));
    };
    for (const c of objects.configMaps) await put('ConfigMap', c);
    for (const b of objects.brokers) await put('Broker', b);
    for (const s of objects.services) await put('Service', s);
    for (const d of objects.kubeDeployments) await put('Deployment', d);
    for (const t of objects.triggers) await put('Trigger', t);
    if (applied.length > 0 && !dryRun) await this.resolve();
    return applied;
  }

  /** Deletes an object by its API plural (`brokers`, `triggers`, `services`, `kubedeployments`); false when there is none. */
  async remove(plural: string, namespace: string, name: string): Promise<boolean> {
    const kind = (Object.keys(PLURAL) as Kind[]).find((k) => PLURAL[k] === plural);
    if (kind === undefined) throw new TrantorError('NOT_FOUND', `unknown resource type ${plural}; use deployments, brokers, triggers, services or kubedeployments`);
    if (kind === 'Trigger' && this.#unrestoredTriggers.delete(key(namespace, name))) {
      // Deleting a trigger whose stored file was skipped removes that file and its pending deliveries.
      await this.#options.store.removeObject(PLURAL[kind], namespace, name);
      await this.resolve();
      return true;
    }
    if (!this.#objects[kind].delete(key(namespace, name))) return false;
    await this.#options.store.removeObject(PLURAL[kind], namespace, name);
    this.#event(kind, namespace, name, 'Deleted', `${kind} ${name} deleted`);
    await this.resolve();
    return true;
  }

  /** Kept on disk too: a sink outlives a restart of the control plane, and deliveries resume. */
  async registerSink(namespace: string, name: string, url: string): Promise<void> {
    // A second event display for the same Service would silently take the first one's events.
    const held = this.#sinks.get(key(namespace, name));
    if (held !== undefined && held !== url && (await answers(held))) {
      throw new TrantorError(
        'CONFLICT',
        `Service ${namespace}/${name} is already served by the event display at ${held}, which is running; stop it first (Ctrl-C where it runs), or display another Service`,
      );
    }
    this.#sinks.set(key(namespace, name), url);
    const object: SinkObject = { metadata: { namespace, name }, url };
    await this.#options.store.saveObject(SINKS, namespace, name, { object, createdAt: new Date().toISOString() });
    this.#event('Service', namespace, name, 'SinkRegistered', `Events for Service ${name} now go to ${url}`);
    await this.resolve();
  }

  #event(kind: string, namespace: string, name: string, reason: string, message: string): void {
    this.#options.recorder?.record({ type: 'Normal', reason, message, source: 'control-plane', involvedObject: { kind, namespace, name } });
  }

  async unregisterSink(namespace: string, name: string): Promise<boolean> {
    const had = this.#sinks.delete(key(namespace, name));
    await this.#options.store.removeObject(SINKS, namespace, name);
    if (had) this.#event('Service', namespace, name, 'SinkUnregistered', `Events for Service ${name} go nowhere now: its event display stopped`);
    if (had) await this.resolve();
    return had;
  }

  hasBroker(namespace: string, name: string): boolean {
    return this.#options.eventing.hasBroker(namespace, name);
  }

  async *tail(namespace: string, name: string, fromSeq: number | undefined, signal: AbortSignal): AsyncGenerator<string> {
    const options = fromSeq === undefined ? { signal } : { signal, fromSeq };
    for await (const stored of this.#options.eventing.tail(namespace, name, options)) yield eventToJsonText(stored.event, { oneLine: true });
  }

  brokerUrl(namespace: string, name: string): string {
    return `${this.#options.gatewayUrl()}/${namespace}/${name}`;
  }

  #resolveDestination(destination: Destination | undefined, namespace: string): Resolution {
    if (destination === undefined) return { reason: 'no destination' };
    const { ref, uri } = destination;
    if (ref === undefined) return uri === undefined ? { reason: 'no destination' } : { uri };
    const ns = ref.namespace || namespace;
    let base: string | undefined;
    let reason: string | undefined;
    if ((ref.kind === 'SeldonDeployment' || ref.kind === 'Broker') && this.#options.gatewayUrl() === '') {
      reason = 'the gateway is not listening yet';
    } else if (ref.kind === 'SeldonDeployment') {
      base = this.#options.deploymentAddress(ns, ref.name);
      if (base === undefined) reason = `SeldonDeployment ${ns}/${ref.name} not found`;
    } else if (ref.kind === 'Service') {
      base = this.#sinks.get(key(ns, ref.name));
      if (base === undefined) {
        reason = this.#objects.Service.has(key(ns, ref.name))
          ? `no local process serves Service ${ns}/${ref.name}; run: trantor event-display --name ${ref.name} -n ${ns}`
          : `Service ${ns}/${ref.name} not found; run: trantor event-display --name ${ref.name} -n ${ns}`;
      }
    } else if (ref.kind === 'Broker') {
      base = this.#options.eventing.hasBroker(ns, ref.name) ? this.brokerUrl(ns, ref.name) : undefined;
      if (base === undefined) reason = `Broker ${ns}/${ref.name} not found`;
    } else {
      reason = `subscriber kind ${ref.kind} is not addressable here; use a SeldonDeployment, Service, Broker or a uri`;
    }
    if (base === undefined) return { reason: reason ?? 'not resolved' };
    // A uri beside a ref is relative to the ref's address, as Knative resolves it.
    return { uri: uri === undefined ? base : new URL(uri, base.endsWith('/') ? base : `${base}/`).toString() };
  }

  /** The delivery spec in force for a trigger, as Knative chooses it: the trigger's, else its broker's, else the defaults. */
  #deliveryOf(trigger: Trigger): DeliverySpec {
    const { namespace } = trigger.metadata;
    const broker = this.#objects.Broker.get(key(namespace, trigger.spec.broker))?.object;
    return trigger.spec.delivery ?? broker?.spec.delivery ?? this.#defaultDelivery(namespace);
  }

  /**
   * What a broker in `namespace` gets when it sets no delivery: the applied `config-br-defaults`
   * (its namespace entry, else its clusterDefault; one without delivery means no retries, as in
   * Knative), else the built-in defaults (Knative's shipped ones).
   */
  #defaultDelivery(namespace: string): DeliverySpec {
    if (this.#brokerDefaults === undefined) return BUILT_IN_DELIVERY;
    return defaultDeliveryFor(this.#brokerDefaults, namespace) ?? NO_RETRIES;
  }

  /**
   * A trigger resolved: its URIs, the delivery in force, and whether it is Ready — its broker
   * exists, its subscriber resolves, and so does the dead-letter sink it names (Knative's
   * `DeadLetterSinkResolved` condition); until then its events are kept, not delivered.
   */
  #bindingOf(trigger: Trigger): TriggerBinding & { reason?: string; message?: string } {
    const { namespace, name } = trigger.metadata;
    const subscriber = this.#resolveDestination(trigger.spec.subscriber, namespace);
    const delivery = this.#deliveryOf(trigger);
    const dls = delivery.deadLetterSink;
    const deadLetter = dls === undefined ? undefined : this.#resolveDestination(dls, namespace);
    let problem: { reason: string; message: string } | undefined;
    if (!this.#options.eventing.hasBroker(namespace, trigger.spec.broker)) {
      problem = { reason: 'BrokerDoesNotExist', message: `Broker ${JSON.stringify(trigger.spec.broker)} does not exist` };
    } else if (subscriber.uri === undefined) {
      problem = { reason: 'SubscriberResolveFailed', message: `Failed to resolve the subscriber: ${subscriber.reason ?? 'not resolved'}` };
    } else if (deadLetter !== undefined && deadLetter.uri === undefined) {
      problem = { reason: 'DeadLetterSinkResolveFailed', message: `Failed to resolve dead letter sink: ${deadLetter.reason ?? 'not resolved'}; failed events wait until it resolves` };
    }
    return { key: key(namespace, name), trigger, delivery, subscriberUri: subscriber.uri, deadLetterUri: deadLetter?.uri, ...problem };
  }

  /** Tells `onChange` after every resolve: any object of these kinds may have changed then. */
  watchChanges(onChange: () => void): () => void {
    return this.#changes.subscribe(onChange);
  }

  /** Recomputes every trigger's URIs and hands them to eventing; call after anything they depend on changes. */
  async resolve(): Promise<void> {
    const eventing = this.#options.eventing;
    const config = [...this.#objects.ConfigMap.values()][0]?.object;
    this.#brokerDefaults = config === undefined ? undefined : brokerDefaultsOf(config);
    eventing.setBrokers([...this.#objects.Broker.values()].map((e) => e.object));
    const bindings = [...this.#objects.Trigger.values()].map((e) => this.#bindingOf(e.object));
    await eventing.setTriggers(
      bindings.map(({ reason: _reason, message: _message, ...binding }) => binding),
      { keepPending: this.#unrestoredTriggers },
    );
    this.#changes.notify();
  }

  triggers(): TriggerView[] {
    return [...this.#objects.Trigger.values()].sort(byKey).map(({ object, createdAt }) => {
      const binding = this.#bindingOf(object);
      const { namespace } = object.metadata;
      const dls = this.#deliveryOf(object).deadLetterSink;
      const status = triggerStatus({
        metadata: object.metadata,
        broker: object.spec.broker,
        brokerExists: this.#options.eventing.hasBroker(namespace, object.spec.broker),
        subscriber: this.#resolveDestination(object.spec.subscriber, namespace),
        deadLetter: dls === undefined ? undefined : this.#resolveDestination(dls, namespace),
        notReady: binding.reason,
      });
      return {
        ...viewOf(manifestOf(object), createdAt),
        status: {
          ...status,
          ready: binding.reason === undefined,
          ...(binding.reason === undefined ? {} : { reason: binding.reason }),
          ...(binding.message === undefined ? {} : { message: binding.message }),
          deliveries: this.#options.eventing.deliveryCounters(binding.key),
          createdAt,
        },
      };
    });
  }

  brokers(): BrokerView[] {
    const declared: Stored<Broker>[] = [...this.#objects.Broker.values()];
    const namespaces = new Set([...this.#objects.Trigger.values()].map(({ object }) => object.metadata.namespace));
    for (const namespace of namespaces) {
      const implicit = this.#implicitBroker(namespace, 'default');
      if (implicit !== undefined) declared.push(implicit);
    }
    const views: BrokerView[] = declared.map(({ object, createdAt }) => {
      const { namespace, name } = object.metadata;
      const dls = object.spec.delivery?.deadLetterSink;
      const status = brokerStatus({ metadata: object.metadata, deadLetter: dls === undefined ? undefined : this.#resolveDestination(dls, namespace) });
      return { ...viewOf(manifestOf(object), createdAt), status: { ...status, address: { url: this.brokerUrl(namespace, name) }, createdAt } };
    });
    return views.sort((a, b) => key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)));
  }

  /** The default broker exists in every namespace that has a trigger using it, declared or not. */
  #implicitBroker(namespace: string, name: string): Stored<Broker> | undefined {
    if (name !== 'default' || this.#objects.Broker.has(key(namespace, name))) return undefined;
    const used = [...this.#objects.Trigger.values()].some(({ object }) => object.metadata.namespace === namespace && object.spec.broker === name);
    if (!used) return undefined;
    const object: Broker = { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', metadata: { name, namespace, labels: {}, annotations: {} }, spec: {} };
    return { object, createdAt: this.#startedAt };
  }

  services(): ServiceView[] {
    return [...this.#objects.Service.values()].sort(byKey).map(({ object, createdAt }) => {
      const sink = this.#sinks.get(key(object.metadata.namespace, object.metadata.name));
      return { ...viewOf(manifestOf(object), createdAt), status: { ...(sink === undefined ? {} : { sinkUrl: sink }), createdAt } };
    });
  }

  configMaps(): ConfigMapView[] {
    return [...this.#objects.ConfigMap.values()].sort(byKey).map(({ object, createdAt }) => ({ ...object, status: { createdAt } }));
  }

  /**
   * Locally no pod runs a Deployment; the process that serves it is the event display registered
   * for a Service selecting its pods' labels: then it has one ready replica.
   */
  kubeDeployments(): KubeDeploymentView[] {
    return [...this.#objects.Deployment.values()].sort(byKey).map(({ object, createdAt }) => ({
      ...viewOf(manifestOf(object), createdAt),
      status: { readyReplicas: this.#servedBySink(object) ? 1 : 0, createdAt },
    }));
  }

  #servedBySink(deployment: Deployment): boolean {
    const labels = deployment.spec.template.metadata.labels;
    return [...this.#objects.Service.values()].some(({ object: service }) => {
      if (service.metadata.namespace !== deployment.metadata.namespace || !this.#sinks.has(key(service.metadata.namespace, service.metadata.name))) return false;
      const selector = Object.entries(service.spec.selector);
      return selector.length > 0 && selector.every(([k, v]) => labels[k] === v);
    });
  }
}

/** Whether anything answers HTTP at `url` within a second (a registered sink whose process still runs). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await request(url, { method: 'HEAD', headersTimeout: 1000, bodyTimeout: 1000, signal: AbortSignal.timeout(1500) });
    await res.body.dump();
    return true;
  } catch {
    return false;
  }
}

/** A sink's stored registration: `{"object": {"metadata": …, "url": "http://…"}}`. */
function sinkUrlOf(file: StoredFile): string {
  const url = readEnvelope(file.text, 'object').value['url'];
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('expected {"object": {"url": "http://…"}}');
  return url;
}

/** `<namespace>/<name>` of a stored file's path (`…/<namespace>/<name>.json`). */
function keyOfPath(file: string): string {
  const parts = file.split(/[\\/]/);
  return key(parts.at(-2) ?? '', (parts.at(-1) ?? '').replace(/\.json$/, ''));
}

function byKey(a: Stored<{ metadata: { namespace: string; name: string } }>, b: Stored<{ metadata: { namespace: string; name: string } }>): number {
  return key(a.object.metadata.namespace, a.object.metadata.name).localeCompare(key(b.object.metadata.namespace, b.object.metadata.name));
}
