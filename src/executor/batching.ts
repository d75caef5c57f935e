/**
 * Adaptive batching for graph nodes that opt in with the parameters `batch_max_size` (rows) and
 * `batch_max_wait_ms`. A Transport wrapper: concurrent `predict` calls to such a node whose
 * messages are 2-D `data.ndarray` or `data.tensor` messages of the same width, names and encoding,
 * with no per-request meta (a puid only), are stacked into one call, and the reply's rows are
 * split back in order, each caller getting its own rows and the reply's shared meta.
 *
 * "Adaptive": a call to an idle node (no batched call in flight) goes out at once; only what
 * piles up while a call is in flight waits, until the batch is full, `batch_max_wait_ms` has
 * passed since its first item, or the node becomes idle again — whichever comes first.
 * Everything else (other methods, strData, jsonData, binData, 1-D or >2-D data, per-request
 * tags) goes straight through.
 */
import { TrantorError } from '../protocol/index.ts';
import type { SeldonMessage } from '../protocol/index.ts';
import { BATCH_MAX_SIZE } from '../manifest/index.ts';
import type { GraphPlan } from './plan.ts';
import type { UnitKey } from './transport/endpoints.ts';
import { invoke, MethodTransport } from './transport/transport.ts';
import type { CallOptions, ComponentMethod, MethodPayload, Reply, Transport } from './transport/transport.ts';

/** A node's batching with its wait resolved. */
export interface Batching {
  /** Most rows in one call. */
  readonly maxSize: number;
  /** Longest an item waits for others once a call is in flight. */
  readonly maxWaitMs: number;
}

/** The batched nodes of a compiled graph, by transport key, waiting `defaultWaitMs` when a node does not say; empty when none opts in. */
export function batchedUnits(plan: GraphPlan, defaultWaitMs: number): Map<UnitKey, Batching> {
  const units = new Map<UnitKey, Batching>();
  for (const node of plan.order) {
    if (node.batch !== undefined) units.set(node.unit, { maxSize: node.batch.maxSize, maxWaitMs: node.batch.maxWaitMs ?? defaultWaitMs });
  }
  return units;
}

/** One caller's request, parsed. */
interface Item {
  readonly rows: number;
  /** `data.ndarray` rows, or the tensor's values. */
  readonly payload: unknown[];
  readonly puid: string | undefined;
  readonly deadline: number;
  resolve(response: Reply<SeldonMessage>): void;
  reject(err: unknown): void;
}

/** Items waiting to go in one call: same encoding, width and names. */
interface Group {
  readonly key: string;
  readonly tensor: boolean;
  readonly columns: number;
  readonly names: string[] | undefined;
  readonly items: Item[];
  rows: number;
  timer: NodeJS.Timeout | undefined;
}

/** What a batchable body holds; undefined when it must go straight through. */
interface Batchable {
  readonly key: string;
  readonly tensor: boolean;
  readonly columns: number;
  readonly names: string[] | undefined;
  readonly rows: number;
  readonly payload: unknown[];
  readonly puid: string | undefined;
}

function batchableOf(message: SeldonMessage): Batchable | undefined {
  const value: unknown = message;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  let data: unknown;
  let puid: string | undefined;
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'data') data = field;
    else if (key === 'meta') {
      if (!metaIsShared(field)) return undefined;
      const p = (field as { puid?: unknown }).puid;
      if (typeof p === 'string') puid = p;
    } else return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const { names, ndarray, tensor, ...rest } = data as { names?: unknown; ndarray?: unknown; tensor?: unknown };
  if (Object.keys(rest).length > 0) return undefined;
  if (names !== undefined && !(Array.isArray(names) && names.every((n) => typeof n === 'string'))) return undefined;
  const nameList = names;
  const nameKey = nameList === undefined ? '' : JSON.stringify(nameList);
  if (ndarray !== undefined && tensor === undefined) {
    if (!Array.isArray(ndarray) || ndarray.length === 0) return undefined;
    const first: unknown = ndarray[0];
    if (!Array.isArray(first)) return undefined;
    const columns = first.length;
    for (const row of ndarray) {
      if (!Array.isArray(row) || row.length !== columns) return undefined;
      if (columns > 0 && Array.isArray(row[0])) return undefined;
    }
    return { key: `n${columns}${nameKey}`, tensor: false, columns, names: nameList, rows: ndarray.length, payload: ndarray, puid };
  }
  if (tensor !== undefined && ndarray === undefined) {
    if (typeof tensor !== 'object' || tensor === null) return undefined;
    const { shape, values, ...others } = tensor as { shape?: unknown; values?: unknown };
    if (Object.keys(others).length > 0) return undefined;
    if (!Array.isArray(shape) || shape.length !== 2 || !Array.isArray(values)) return undefined;
    const [rows, columns] = shape as unknown[];
    if (!Number.isInteger(rows) || !Number.isInteger(columns) || (rows as number) < 1 || (columns as number) < 0) return undefined;
    if (values.length !== (rows as number) * (columns as number)) return undefined;
    return { key: `t${columns as number}${nameKey}`, tensor: true, columns: columns as number, names: nameList, rows: rows as number, payload: values, puid };
  }
  return undefined;
}

/** Meta a batch may share: none, a puid (the executor sets each reply's own), empty tags or metrics. */
function metaIsShared(meta: unknown): boolean {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return false;
  for (const [key, value] of Object.entries(meta as Record<string, unknown>)) {
    if (key === 'puid') continue;
    if (key === 'tags' && typeof value === 'object' && value !== null && Object.keys(value).length === 0) continue;
    if (key === 'metrics' && Array.isArray(value) && value.length === 0) continue;
    return false;
  }
  return true;
}

/** One opted-in node's queue. */
class Batcher {
  private readonly inner: Transport;
  private readonly unit: UnitKey;
  private readonly settings: Batching;
  private readonly groups = new Map<string, Group>();
  /** Calls to the component sent by this batcher and not yet answered. */
  private inFlight = 0;

  constructor(inner: Transport, unit: UnitKey, settings: Batching) {
    this.inner = inner;
    this.unit = unit;
    this.settings = settings;
  }

  predict(message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>> {
    const parsed = batchableOf(message);
    if (parsed === undefined || parsed.rows > this.settings.maxSize) return this.inner.predict(this.unit, message, options);
    // An idle node: send at once, as it came.
    if (this.inFlight === 0 && this.groups.size === 0) return this.track(this.inner.predict(this.unit, message, options));
    return new Promise<Reply<SeldonMessage>>((resolve, reject) => {
      const item: Item = { rows: parsed.rows, payload: parsed.payload, puid: parsed.puid, deadline: Date.now() + options.timeoutMs, resolve, reject };
      let group = this.groups.get(parsed.key);
      if (group !== undefined && group.rows + item.rows > this.settings.maxSize) {
        this.flush(group, options);
        group = undefined;
      }
      if (group === undefined) {
        group = { key: parsed.key, tensor: parsed.tensor, columns: parsed.columns, names: parsed.names, items: [], rows: 0, timer: undefined };
        this.groups.set(group.key, group);
        const waiting = group;
        group.timer = setTimeout(() => this.flush(waiting, options), this.settings.maxWaitMs);
      }
      group.items.push(item);
      group.rows += item.rows;
      if (group.rows >= this.settings.maxSize) this.flush(group, options);
    });
  }

  private track(call: Promise<Reply<SeldonMessage>>): Promise<Reply<SeldonMessage>> {
    this.inFlight++;
    const done = (): void => {
      this.inFlight--;
      // The node is idle again: what piled up goes now rather than waiting out its timer.
      if (this.inFlight === 0) for (const group of [...this.groups.values()]) this.flush(group, undefined);
    };
    call.then(done, done);
    return call;
  }

  private flush(group: Group, options: CallOptions | undefined): void {
    if (this.groups.get(group.key) !== group) return;
    this.groups.delete(group.key);
    if (group.timer !== undefined) clearTimeout(group.timer);
    const items = group.items;
    const remaining = Math.max(1, Math.min(...items.map((i) => i.deadline)) - Date.now());
    const callOptions: CallOptions = { idempotent: options?.idempotent ?? true, timeoutMs: remaining };
    let message: SeldonMessage;
    if (items.length === 1) {
      message = messageOf(group, items[0]!.payload, items[0]!.rows, items[0]!.puid);
    } else {
      const payload: unknown[] = [];
      for (const item of items) for (const v of item.payload) payload.push(v);
      message = messageOf(group, payload, group.rows, undefined);
    }
    this.track(this.inner.predict(this.unit, message, callOptions)).then(
      (response) => split(group, response, this.unit),
      (err: unknown) => {
        for (const item of items) item.reject(err);
      },
    );
  }
}

function messageOf(group: Group, payload: unknown[], rows: number, puid: string | undefined): SeldonMessage {
  const data = group.tensor ? { tensor: { shape: [rows, group.columns], values: payload } } : { ndarray: payload };
  const message = { data: group.names === undefined ? data : { names: group.names, ...data }, ...(puid === undefined ? {} : { meta: { puid } }) };
  return message as SeldonMessage;
}

/** Gives each caller its rows of the reply; a failure, or a reply that cannot be split, goes to every caller. */
function split(group: Group, response: Reply<SeldonMessage>, unit: UnitKey): void {
  const items = group.items;
  if (items.length === 1) {
    items[0]!.resolve(response);
    return;
  }
  if (response.failure !== undefined || response.message.status?.status === 'FAILURE') {
    // The walk reports it, for every caller.
    for (const item of items) item.resolve(response);
    return;
  }
  const reply = response.message as Record<string, unknown>;
  const data = reply['data'] as { ndarray?: unknown; tensor?: { shape?: unknown; values?: unknown } } | undefined;
  const total = group.rows;
  let slice: ((start: number, rows: number) => unknown) | undefined;
  if (data !== undefined && Array.isArray(data.ndarray) && data.ndarray.length === total) {
    const rows = data.ndarray;
    slice = (start, n) => ({ ...data, ndarray: rows.slice(start, start + n) });
  } else if (data?.tensor !== undefined && Array.isArray(data.tensor.shape) && data.tensor.shape[0] === total && Array.isArray(data.tensor.values)) {
    const shape = data.tensor.shape as number[];
    const values = data.tensor.values as unknown[];
    const width = total === 0 ? 0 : values.length / total;
    if (Number.isInteger(width)) {
      slice = (start, n) => ({ ...data, tensor: { ...data.tensor, shape: [n, ...shape.slice(1)], values: values.slice(start * width, (start + n) * width) } });
    }
  }
  if (slice === undefined) {
    const err = new TrantorError(
      'BAD_UPSTREAM',
      `node "${unit.node}" answered a batch of ${total} rows (${items.length} requests) without ${total} rows in data.ndarray or data.tensor to split back; batching (${BATCH_MAX_SIZE}) needs a row-wise model`,
    );
    for (const item of items) item.reject(err);
    return;
  }
  const meta = (reply['meta'] ?? {}) as Record<string, unknown>;
  let start = 0;
  for (const item of items) {
    const own = { ...reply, data: slice(start, item.rows), meta: item.puid === undefined ? meta : { ...meta, puid: item.puid } };
    start += item.rows;
    item.resolve({ status: response.status, message: own as SeldonMessage });
  }
}

/** A Transport that batches `predict` calls to the opted-in nodes and passes everything else through. */
export class BatchingTransport extends MethodTransport {
  private readonly inner: Transport;
  private readonly batchers = new Map<UnitKey, Batcher>();

  constructor(inner: Transport, units: ReadonlyMap<UnitKey, Batching>) {
    super();
    this.inner = inner;
    for (const [unit, settings] of units) this.batchers.set(unit, new Batcher(inner, unit, settings));
  }

  override predict(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>> {
    const batcher = this.batchers.get(unit);
    return batcher === undefined ? this.inner.predict(unit, message, options) : batcher.predict(message, options);
  }

  protected send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>> {
    return invoke(this.inner, unit, method, payload, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
