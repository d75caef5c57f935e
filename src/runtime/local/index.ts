/**
 * The local runtime: SeldonDeployments run as processes on this machine.
 */
export { LocalSupervisor } from './supervisor.ts';
export type { LocalSupervisorOptions, LogEvent, RemovedEvent, StatusEvent, SupervisorEvents } from './supervisor.ts';
export { runtimeOptions } from './options.ts';
export type { RuntimeOptions } from './options.ts';
export type { AppendLogOptions, LogLine, LogStream } from './logs.ts';
export { AppendLog } from './logs.ts';
export { planDeployment, nodeHostCommand, PACKAGE_ROOT, PYTHON_HOST_COMMAND, NODE_HOST_COMMAND, IN_EXECUTOR_IMPLEMENTATIONS } from './plan.ts';
export type { ComponentLaunch, PlanOptions } from './plan.ts';
export { PortAllocator, sharedPorts, LOOPBACK } from './ports.ts';
export { findPython, missingPythonAdvice, PYTHON_PACKAGE_DIR } from './python.ts';
export type { PythonChoice } from './python.ts';
