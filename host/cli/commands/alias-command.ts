/**
 * `ripple models alias ls|set|rm`: names that stand for models in order of preference (`coder` ->
 * qwen3-coder-30b, then qwen3-coder-7b), and patterns for the names agents send unasked (`claude-*`),
 * on this peer or, with `--mesh`, for every peer (admins only).
 */
import { Command } from 'commander'
import type { AliasView } from '../../api/contract/index.ts'
import { printable, printableJson } from '../../text/printable.ts'
import { formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

interface ScopeOptions extends TargetOptions {
  mesh?: boolean
}

export function aliasCommand(): Command {
  return new Command('alias')
    .description(
      'names for models in order of preference, and patterns for the names agents send (claude-*, gpt-*)',
    )
    .addCommand(lsCommand())
    .addCommand(setCommand())
    .addCommand(rmCommand())
}

function lsCommand(): Command {
  return addTargetOptions(
    new Command('ls').description('list the aliases in force here and the model each runs now'),
  ).action(async (options: TargetOptions) => {
    const { aliases } = await (await connectDaemon(options)).listAliases()
    process.stdout.write(options.json ? `${printableJson({ aliases })}\n` : `${aliasTable(aliases)}\n`)
  })
}

function setCommand(): Command {
  return addTargetOptions(
    new Command('set')
      .argument('<name>', 'the alias: a name, or a prefix ending in * (claude-*, gpt-*, * for any name)')
      .argument('<targets...>', 'models in order of preference: the first served with a slot free runs')
      .description('set or replace an alias')
      .option('--mesh', 'for every peer of the mesh (admins only); default: this peer only'),
  ).action(async (name: string, targets: string[], options: ScopeOptions) => {
    const set = await (await connectDaemon(options)).setAlias({
      name,
      targets,
      mesh: options.mesh === true,
    })
    process.stdout.write(
      options.json
        ? `${printableJson(set)}\n`
        : `${printable(set.name)} -> ${printable(set.targets.join(', '))} (${set.scope}; runs ${printable(set.resolves_to ?? 'nothing now: no peer serves its models')})\n`,
    )
  })
}

function rmCommand(): Command {
  return addTargetOptions(
    new Command('rm')
      .argument('<name>', 'the alias')
      .description('remove an alias')
      .option('--mesh', "remove the mesh's alias (admins only); default: this peer's"),
  ).action(async (name: string, options: ScopeOptions) => {
    const res = await (await connectDaemon(options)).removeAlias({ name, mesh: options.mesh === true })
    process.stdout.write(
      options.json ? `${printableJson(res)}\n` : `removed ${printable(res.removed)} (${res.scope})\n`,
    )
  })
}

export function aliasTable(aliases: AliasView[]): string {
  if (aliases.length === 0) return '(no aliases)'
  // Each cell made printable, not the table: its own line breaks stay line breaks.
  const rows = aliases.map((a) =>
    [a.name, a.targets.join(', '), a.scope, a.resolves_to ?? '- (no peer serves its models)'].map(printable),
  )
  return formatTable(['ALIAS', 'MODELS', 'SCOPE', 'RUNS NOW'], rows)
}
