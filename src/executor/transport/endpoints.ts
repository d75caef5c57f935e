/**
 * The endpoint types the executor reads live in `manifest`, beside the Runtime contract that
 * provides them; re-exported here so the executor's modules keep their import paths.
 */
export type { EndpointSource, ReplicaAddress, UnitKey } from '../../manifest/index.ts';
