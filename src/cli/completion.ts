/**
 * Shell completion as kubectl (cobra) does it: `trantor completion bash|zsh|fish` prints a small
 * script whose function calls the hidden `trantor __complete WORD… CURRENT` and offers what it
 * prints, one candidate a line. The candidates come from the command tree itself (commands, flags,
 * an option's choices), the resource words, and — when a control plane runs — object names,
 * namespaces and a deployment's graph nodes.
 */
import type { Command, Option } from 'commander';
import { graphNodes, resolveHome, type DeploymentList } from '../manifest/index.ts';
import { callApiJson, CliError, connectControlPlane } from './control-plane.ts';
import type { Io } from './io.ts';
import { RESOURCES, resourceOfWord, type Resource } from './resources.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The hidden command the scripts call. */
export const COMPLETE_COMMAND = '__complete';

/** What only a running control plane knows. */
export interface CompletionSource {
  names(resource: Resource, namespace: string | undefined): Promise<string[]>;
  namespaces(): Promise<string[]>;
  nodes(deployment: string, namespace: string | undefined): Promise<string[]>;
}

/** Commands whose first argument is a deployment name. */
const DEPLOYMENT_COMMANDS = new Set(['logs', 'predict', 'feedback']);
/** Commands whose arguments are `[TYPE] NAME`. */
const OBJECT_COMMANDS = new Set(['get', 'delete', 'describe']);
/** Values of `-o/--output` when the option lists no choices. */
const OUTPUT_FORMATS = ['json', 'yaml', 'wide', 'name'];

function optionOf(command: Command, word: string): Option | undefined {
  const flag = word.includes('=') ? word.slice(0, word.indexOf('=')) : word;
  return command.options.find((o) => o.long === flag || o.short === flag);
}

function takesValue(option: Option | undefined, word: string): boolean {
  return option !== undefined && (option.required || option.optional) && !word.includes('=');
}

interface Position {
  command: Command;
  /** The words that are not options nor their values, after the command's name. */
  positionals: string[];
  /** The option whose value the current word is, if any. */
  valueFor?: Option;
  namespace?: string;
  home?: string;
}

/** Where the words before the current one leave us: which (sub)command, which arguments. */
function positionOf(program: Command, before: readonly string[]): Position {
  const position: Position = { command: program, positionals: [] };
  let sawCommand = false;
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    const { command } = position;
    if (word.startsWith('-') && word !== '-') {
      const option = optionOf(command, word) ?? optionOf(program, word);
      if (takesValue(option, word)) {
        const value = before[i + 1];
        if (value === undefined) {
          position.valueFor = option!;
          break;
        }
        if (option!.long === '--namespace') position.namespace = value;
        if (option!.long === '--home') position.home = value;
        i++;
      }
      continue;
    }
    const sub = position.positionals.length === 0 ? command.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub !== undefined) {
      position.command = sub;
      sawCommand = true;
      continue;
    }
    if (sawCommand) position.positionals.push(word);
  }
  return position;
}

function visibleCommands(command: Command): string[] {
  return command.commands.filter((c) => c.name() !== COMPLETE_COMMAND && !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
}

function flagsOf(command: Command, program: Command): string[] {
  const flags = new Set<string>();
  for (const owner of command === program ? [program] : [command, program]) {
    for (const option of owner.options) {
      if (option.hidden) continue;
      if (option.long !== undefined) flags.add(option.long);
      if (option.short !== undefined) flags.add(option.short);
    }
  }
  flags.add('--help');
  return [...flags];
}

/** The candidates for the last of `words` (the word being typed; '' for a new one), those starting with it. */
export async function completeWords(program: Command, words: readonly string[], source: CompletionSource | undefined): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const candidates = await candidatesAt(program, positionOf(program, words.slice(0, -1)), current, source);
  return [...new Set(candidates)].filter((c) => c.startsWith(current));
}

async function candidatesAt(program: Command, position: Position, current: string, source: CompletionSource | undefined): Promise<string[]> {
  const { command, positionals, valueFor, namespace } = position;
  if (valueFor !== undefined) {
    if (valueFor.argChoices !== undefined) return valueFor.argChoices;
    if (valueFor.long === '--namespace') return (await source?.namespaces()) ?? [];
    if (valueFor.long === '--output') return OUTPUT_FORMATS;
    if (valueFor.long === '--container' && positionals[0] !== undefined) return (await source?.nodes(positionals[0], namespace)) ?? [];
    return []; // a file or free text: the shell's own completion
  }
  if (current.startsWith('-')) return flagsOf(command, program);
  if (command === program || command.commands.length > 0) return visibleCommands(command);
  const name = command.name();
  const deployments = RESOURCES[0]!;
  if (name === 'completion') return positionals.length === 0 ? [...SHELLS] : [];
  if (DEPLOYMENT_COMMANDS.has(name)) {
    if (positionals.length === 0) return (await source?.names(deployments, namespace)) ?? [];
    if (name === 'logs' && positionals.length === 1) return (await source?.nodes(positionals[0]!, namespace)) ?? [];
    return [];
  }
  if (OBJECT_COMMANDS.has(name)) {
    if (positionals.length === 0) {
      const words = RESOURCES.map((r) => r.words[0]!).concat(name === 'get' ? ['all'] : []);
      return [...words, ...((await source?.names(deployments, namespace)) ?? [])];
    }
    const resource = positionals.length === 1 ? resourceOfWord(positionals[0]!) : undefined;
    return resource === undefined ? [] : ((await source?.names(resource, namespace)) ?? []);
  }
  return [];
}

/** Names from the control plane of `home`, or nothing (never an error) when none runs or it is slow. */
export function controlPlaneSource(home: string, env: NodeJS.ProcessEnv, timeoutMs = 2000): CompletionSource | undefined {
  let info;
  try {
    info = connectControlPlane(home, env);
  } catch (err) {
    if (err instanceof CliError) return undefined;
    throw err;
  }
  const client = info;
  const fetchList = async <T>(path: string): Promise<T | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([callApiJson<T>(client, 'GET', path).catch(() => undefined), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const items = async (resource: Resource): Promise<{ metadata: { name: string; namespace: string } }[]> =>
    (await fetchList<{ items: { metadata: { name: string; namespace: string } }[] }>(`/v1/${resource.plural}`))?.items ?? [];
  return {
    names: async (resource, namespace) => (await items(resource)).filter((o) => namespace === undefined || o.metadata.namespace === namespace).map((o) => o.metadata.name),
    namespaces: async () => (await items(RESOURCES[0]!)).map((o) => o.metadata.namespace),
    nodes: async (deployment, namespace) => {
      const list = await fetchList<DeploymentList>('/v1/deployments');
      const view = list?.items.find((d) => d.metadata.name === deployment && (namespace === undefined || d.metadata.namespace === namespace));
      return (view?.spec.predictors ?? []).flatMap((p) => (p.graph === undefined ? [] : graphNodes({ graph: p.graph }).map((n) => n.name)));
    },
  };
}

/** `trantor __complete WORD…`: prints the candidates, one a line; always exits 0. */
export async function runComplete(program: Command, words: readonly string[], io: Io): Promise<number> {
  const home = positionOf(program, words.slice(0, -1)).home;
  const source = controlPlaneSource(resolveHome(home, io.env), io.env);
  for (const candidate of await completeWords(program, words, source)) io.out(candidate);
  return 0;
}

/** The script `trantor completion SHELL` prints. */
export function completionScript(shell: Shell): string {
  switch (shell) {
    case 'bash':
      return `# trantor completion for bash; load with: source <(trantor completion bash)
_trantor() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  local candidates
  candidates=$(trantor ${COMPLETE_COMMAND} "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -F _trantor trantor`;
    case 'zsh':
      return `#compdef trantor
# trantor completion for zsh; load with: source <(trantor completion zsh) (after compinit)
_trantor() {
  local -a candidates
  candidates=("\${(@f)$(trantor ${COMPLETE_COMMAND} "\${(@)words[2,$CURRENT]}" 2>/dev/null)}")
  if (( \${#candidates[@]} )) && [[ -n "\${candidates[1]}" ]]; then
    compadd -a candidates
  else
    _files
  fi
}
compdef _trantor trantor`;
    case 'fish':
      return `# trantor completion for fish; load with: trantor completion fish | source
function __trantor_complete
    set -l tokens (commandline -opc)
    set -l candidates (trantor ${COMPLETE_COMMAND} $tokens[2..-1] (commandline -ct) 2>/dev/null)
    if test (count $candidates) -gt 0
        printf '%s\\n' $candidates
    else
        __fish_complete_path (commandline -ct)
    end
end
complete -c trantor -f -a '(__trantor_complete)'`;
  }
}

export function addCompletionCommand(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(trantor completion bash), or zsh, or trantor completion fish | source')
    .argument('<shell>', SHELLS.join(' | '))
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw new CliError(`completion ${shell}: expected one of ${SHELLS.join(', ')}`);
      io.out(completionScript(shell as Shell));
    });
}
