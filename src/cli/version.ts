/**
 * `trantor version` (and `trantor --version`): kubectl's `Client Version:` and `Server Version:`
 * lines — the package's version, the Node that runs it, and the running control plane's (GET
 * /v1/version) when there is one; `--client` for the first alone.
 */
import { Option, type Command } from 'commander';
import { packageVersion } from '../manifest/index.ts';
import { callApiJson } from './control-plane.ts';
import { serialise } from './format.ts';
import { connect, type Io } from './io.ts';

export interface VersionInfo {
  trantorVersion: string;
  nodeVersion: string;
  platform: string;
}

export function clientVersion(): VersionInfo {
  return { trantorVersion: packageVersion(), nodeVersion: process.version, platform: `${process.platform}/${process.arch}` };
}

/** `v0.1.0 (Node v20.18.1, linux/x64)`: the version first, for scripts that take the third word. */
export function versionText(info: VersionInfo): string {
  return `v${info.trantorVersion} (Node ${info.nodeVersion}, ${info.platform})`;
}

export function addVersionCommand(program: Command, io: Io): void {
  program.version(`Client Version: ${versionText(clientVersion())}`, '--version', "print the client's version (trantor version adds the control plane's)");
  program
    .command('version')
    .description("print the client's version and, when one runs, the control plane's (kubectl's Client Version / Server Version)")
    .option('--client', "the client's version only; no control plane needed")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'yaml']))
    .action(async (flags: { client?: boolean; output?: 'json' | 'yaml' }, command: Command) => {
      const client = clientVersion();
      const print = (server: VersionInfo | undefined): void => {
        if (flags.output !== undefined) io.out(serialise({ clientVersion: client, ...(server === undefined ? {} : { serverVersion: server }) }, flags.output));
        else io.out([`Client Version: ${versionText(client)}`, ...(server === undefined ? [] : [`Server Version: ${versionText(server)}`])].join('\n'));
      };
      if (flags.client === true) return print(undefined);
      let server: VersionInfo;
      try {
        server = await callApiJson<VersionInfo>(connect(command, io), 'GET', '/v1/version');
      } catch (err) {
        // As kubectl: the client's version still prints, and the unreachable server fails the command.
        print(undefined);
        throw err;
      }
      print(server);
    });
}
