/**
 * The RPCs of Seldon's component services, one table for both ends: the executor's gRPC client
 * (which service it calls each method on, as Seldon's executor does) and the component hosts'
 * servers (which method an RPC name dispatches to). The protobuf kinds of each RPC's request and
 * answer are read from seldon.proto itself, so the table cannot disagree with the schema.
 */
import { TrantorError } from '../errors.ts';
import type { SeldonProtoKind } from './seldon-codec.ts';
import { seldonService } from './schema.ts';

/** A component's methods that travel as an RPC (health has none in Seldon's services). */
export type ComponentRpcMethod = 'predict' | 'transformInput' | 'transformOutput' | 'route' | 'aggregate' | 'sendFeedback' | 'metadata';

/** Seldon's services a component serves. */
export type ComponentServiceName = 'Generic' | 'Model' | 'Router' | 'Transformer' | 'OutputTransformer' | 'Combiner';

export interface ComponentRpc {
  readonly method: ComponentRpcMethod;
  /** The RPC's name in seldon.proto (`Predict`). */
  readonly name: string;
  /** Its full path on the service the executor calls it on (`/seldon.protos.Model/Predict`). */
  readonly path: string;
  /** The request's kind; `Empty` is google.protobuf.Empty (no payload). */
  readonly request: SeldonProtoKind | 'Empty';
  readonly answer: SeldonProtoKind;
}

/** The service Seldon's executor calls each method on. */
const CALLED_ON: Readonly<Record<ComponentRpcMethod, { service: ComponentServiceName; name: string }>> = {
  predict: { service: 'Model', name: 'Predict' },
  transformInput: { service: 'Transformer', name: 'TransformInput' },
  transformOutput: { service: 'OutputTransformer', name: 'TransformOutput' },
  route: { service: 'Router', name: 'Route' },
  aggregate: { service: 'Combiner', name: 'Aggregate' },
  sendFeedback: { service: 'Model', name: 'SendFeedback' },
  metadata: { service: 'Model', name: 'Metadata' },
};

export const COMPONENT_RPC_METHODS = Object.freeze(Object.keys(CALLED_ON) as ComponentRpcMethod[]);

const SELDON_PREFIX = '.seldon.protos.';
const EMPTY = '.google.protobuf.Empty';

function kindOf(fullName: string, where: string): SeldonProtoKind | 'Empty' {
  if (fullName === EMPTY) return 'Empty';
  if (fullName.startsWith(SELDON_PREFIX)) return fullName.slice(SELDON_PREFIX.length) as SeldonProtoKind;
  throw new TrantorError('INTERNAL', `seldon.proto's ${where} carries ${fullName}, which the codec does not convert`);
}

let byMethod: ReadonlyMap<ComponentRpcMethod, ComponentRpc> | undefined;
let byName: ReadonlyMap<string, ComponentRpc> | undefined;

function table(): ReadonlyMap<ComponentRpcMethod, ComponentRpc> {
  if (byMethod !== undefined) return byMethod;
  const rpcs = new Map<ComponentRpcMethod, ComponentRpc>();
  const names = new Map<string, ComponentRpc>();
  for (const method of COMPONENT_RPC_METHODS) {
    const { service, name } = CALLED_ON[method];
    const described = seldonService(service).methods[name];
    if (described === undefined) throw new TrantorError('INTERNAL', `seldon.proto's ${service} service has no ${name} RPC`);
    described.resolve();
    const where = `${service}.${name}`;
    const request = kindOf(described.resolvedRequestType!.fullName, where);
    const answer = kindOf(described.resolvedResponseType!.fullName, where);
    if (answer === 'Empty') throw new TrantorError('INTERNAL', `seldon.proto's ${where} answers nothing`);
    const rpc: ComponentRpc = Object.freeze({ method, name, path: `/seldon.protos.${service}/${name}`, request, answer });
    rpcs.set(method, rpc);
    names.set(name, rpc);
  }
  byName = names;
  byMethod = rpcs;
  return rpcs;
}

/** The RPC `method` travels as, on the service Seldon's executor calls it on. */
export function componentRpc(method: ComponentRpcMethod): ComponentRpc {
  return table().get(method)!;
}

/**
 * The RPC named `name` (`Route`), as any component service declares it (Generic's Route takes and
 * answers what Router's does); undefined for a name that is not a component RPC.
 */
export function componentRpcNamed(name: string): ComponentRpc | undefined {
  table();
  return byName!.get(name);
}
