import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { resolveHome } from './home.ts';

test('the home is --home, else TRANTOR_HOME, else ~/.trantor; an empty TRANTOR_HOME is unset, not the current folder', () => {
  assert.equal(resolveHome('/h/flag', { TRANTOR_HOME: '/h/env' }), '/h/flag');
  assert.equal(resolveHome(undefined, { TRANTOR_HOME: '/h/env' }), '/h/env');
  assert.equal(resolveHome(undefined, { TRANTOR_HOME: 'rel' }), resolve('rel'));
  assert.equal(resolveHome(undefined, {}), join(homedir(), '.trantor'));
  assert.equal(resolveHome(undefined, { TRANTOR_HOME: '' }), join(homedir(), '.trantor'));
});
