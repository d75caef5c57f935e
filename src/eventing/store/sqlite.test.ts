import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteEventStore } from './sqlite.ts';
import { eventStoreContract } from './testing.ts';

eventStoreContract('sqlite', (folder) => new SqliteEventStore({ path: join(folder, 'events.db') }));

test('sqlite: an append that resolved survives the process being killed with SIGKILL', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'trantor-store-')), 'events.db');
  const module = fileURLToPath(new URL('./sqlite.ts', import.meta.url));
  const script = `
    import { SqliteEventStore } from ${JSON.stringify(module)};
    const store = new SqliteEventStore({ path: ${JSON.stringify(path)} });
    const event = { specversion: '1.0', id: 'kept', source: 's', type: 't', extensions: {} };
    await store.append('ns/default', [{ event, triggers: ['ns/t'] }]);
    process.kill(process.pid, 'SIGKILL');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], { encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const store = new SqliteEventStore({ path });
  return store.pending('ns/t').then(async (pending) => {
    assert.deepEqual(pending.map((p) => p.event.id), ['kept']);
    await store.close();
  });
});
