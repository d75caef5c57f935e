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
export { brokerKey, isOutOfSpace } from './store.ts';
export { DURABILITIES, SqliteEventStore, openSqliteStore } from './sqlite.ts';
export type { Durability, SqliteEventStoreOptions } from './sqlite.ts';
