/**
 * The layout of a Trantor home (`--home`, `TRANTOR_HOME`, or ~/.trantor): where the control
 * plane keeps applied manifests, logs and broker data, and where other commands find it.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  // `TRANTOR_HOME=` (empty) is unset, as a shell user means it, not the current folder.
  const named = env['TRANTOR_HOME'] === '' ? undefined : env['TRANTOR_HOME'];
  return resolve(flag ?? named ?? join(homedir(), '.trantor'));
}

/** Written by `trantor up` once it is ready; read by every other command. */
export interface ControlPlaneInfo {
  pid: number;
  apiUrl: string;
  gatewayUrl: string;
  startedAt: string;
}

export const homeLayout = {
  controlPlane: (home: string): string => join(home, 'control-plane.json'),
  manifests: (home: string): string => join(home, 'manifests'),
  logs: (home: string): string => join(home, 'logs'),
  lock: (home: string): string => join(home, 'up.lock'),
  /** The control-plane API's bearer token, mode 0600, written at first start. */
  apiToken: (home: string): string => join(home, 'api-token'),
};
