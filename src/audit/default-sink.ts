/** The audit log createAirlock keeps when given no sink: SQLite at <home>/audit.db, checkpointed, 'durable' unless told otherwise. */
import { join } from 'node:path';
import { checkpointingFor, type CheckpointSettings } from './checkpoint-config.ts';
import { CheckpointedStore } from './checkpointed-store.ts';
import { DurableAuditSink } from './durable-sink.ts';
import type { AuditSink } from './event.ts';
import { SqliteAuditStore } from './sqlite-store.ts';
import type { AuditDurabilitySettings } from './wal-sync.ts';

/** The SQLite log at <home>/audit.db, checkpointed with a key and a witness outside `home`. */
export function defaultAuditSink(home: string, settings: CheckpointSettings | undefined, durability: AuditDurabilitySettings = {}): AuditSink {
  // The key is loaded (or made) before the database is opened, so a refused key leaves nothing open.
  const checkpointing = checkpointingFor({ home, env: process.env, ...(settings === undefined ? {} : { settings }) });
  return new DurableAuditSink(new CheckpointedStore(SqliteAuditStore.open({ path: join(home, 'audit.db'), ...durability }), checkpointing));
}
