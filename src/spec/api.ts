/**
 * The shapes the control-plane HTTP API speaks (docs/api.md), shared by the server and the CLI.
 */
import type { DeploymentStatus } from './runtime.ts';
import type { SeldonDeployment } from './types.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  kind: string;
  namespace: string;
  name: string;
  action: ApplyAction;
}

export interface ApplyResponse {
  applied: AppliedObject[];
}

/** A deployment as `trantor get` shows it: the stored object plus its live status. */
export interface DeploymentView extends Omit<SeldonDeployment, 'baseDir'> {
  status: DeploymentStatus & {
    address: { url: string };
    createdAt: string;
  };
}

export interface DeploymentList {
  items: DeploymentView[];
}

export interface LogLine {
  replica: string;
  line: string;
}
