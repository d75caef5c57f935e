/** Broker storage: the EventStore interface and its SQLite implementation. */
export type {
  AppendRecord,
  BrokerKey,
  EventStore,
  PendingDelivery,
  StoredEvent,
  TriggerCounts,
  TriggerKey,
} from './store.ts';
export { brokerKey } from './store.ts';
export { DURABILITIES, SqliteEventStore, isOutOfSpace } from './sqlite.ts';
export type { Durability, SqliteEventStoreOptions } from './sqlite.ts';
