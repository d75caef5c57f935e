/** The gateway's face for tests: a deployment table a test fills by hand. */
import type { DeploymentEntry, DeploymentTable } from './deployments.ts';

/** Entries keyed `<namespace>/<name>`, as the control plane's table looks them up. */
export class MapDeploymentTable implements DeploymentTable {
  readonly entries = new Map<string, DeploymentEntry>();
  lookup(namespace: string, name: string): DeploymentEntry | undefined {
    return this.entries.get(`${namespace}/${name}`);
  }
}
