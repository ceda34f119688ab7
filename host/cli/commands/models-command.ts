/**
 * `ripple models ls|load|unload|pull|alias`: the models of the running daemon, what it holds in memory,
 * models fetched by name into its models directory, and the aliases that stand for models.
 */
import { Command } from 'commander'
import type { ModelsView } from '../../api/contract/index.ts'
import { printable, printableJson } from '../../text/printable.ts'
import { parseIntegerIn } from '../cli-options.ts'
import { formatBytes, formatCount, formatTable, keepAliveLine } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { progressBar } from '../progress-bar.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'
import { aliasCommand } from './alias-command.ts'

export function modelsCommand(): Command {
  return new Command('models')
    .description('list, load and unload the GGUF models of the running daemon')
    .addCommand(lsCommand())
    .addCommand(loadCommand())
    .addCommand(unloadCommand())
    .addCommand(pullCommand())
    .addCommand(aliasCommand())
}

function lsCommand(): Command {
  return addTargetOptions(
    new Command('ls').description(
      'list the models directory: usable models, loaded or not, and unusable files',
    ),
  ).action(async (options: TargetOptions) => {
    const view = await (await connectDaemon(options)).listModels()
    if (options.json) {
      process.stdout.write(`${printableJson(view)}\n`)
      return
    }
    process.stdout.write(`${modelsTable(view)}\n`)
  })
}

function loadCommand(): Command {
  return addTargetOptions(
    new Command('load')
      .argument('<name>', 'model name (file name without .gguf)')
      .description('load a model')
      .option('--split', "split it over the mesh's peers when it fits on none (this peer heads it)"),
  ).action(async (name: string, options: TargetOptions & { split?: boolean }) => {
    const api = await connectDaemon(options)
    const bar = progressBar(`loading ${name}`, { enabled: !options.json })
    const loaded = await api
      .loadModel(name, { split: options.split === true, onProgress: bar.show })
      .finally(bar.end)
    process.stdout.write(
      options.json
        ? `${JSON.stringify(loaded, null, 2)}\n`
        : `loaded ${loaded.model} in ${loaded.load_ms} ms (context ${loaded.context_size} tokens, ${loaded.threads} threads)\n`,
    )
  })
}

function unloadCommand(): Command {
  return addTargetOptions(
    new Command('unload').argument('<name>', 'model name').description('unload a model, freeing its memory'),
  ).action(async (name: string, options: TargetOptions) => {
    const res = await (await connectDaemon(options)).unloadModel(name)
    process.stdout.write(
      options.json
        ? `${JSON.stringify(res, null, 2)}\n`
        : `${res.unloaded ? 'unloaded' : 'was not loaded:'} ${res.model}\n`,
    )
  })
}

function modelsTable(view: ModelsView): string {
  const header = ['NAME', 'LOADED', 'ARCH', 'PARAMS', 'QUANT', 'CONTEXT', 'SIZE', 'SHA256']
  const rows = view.models.map((m) => [
    m.name,
    m.loaded ? `yes (${keepAliveLine(m)})` : 'no',
    m.architecture,
    formatCount(m.parameters),
    m.quantisation ?? '-',
    String(m.context_length),
    formatBytes(m.size_bytes),
    `${m.sha256.slice(0, 12)}…`,
  ])
  const lines = [formatTable(header, rows)]
  if (view.models.length === 0) lines.push('(no usable models)')
  for (const bad of view.unusable) lines.push(`unusable  ${bad.path}: ${bad.reason}`)
  for (const split of view.splits ?? []) {
    const peers = split.peers.map(
      (p) => `${p.agent.slice(0, 12)}… ${p.layers} layers ${formatBytes(p.bytes)}`,
    )
    lines.push(`split     ${split.model} over ${split.peers.length} peers (head first): ${peers.join(', ')}`)
  }
  return lines.join('\n')
}

interface PullOptions extends TargetOptions {
  sha256?: string
  size?: number
  name?: string
}

function pullCommand(): Command {
  return addTargetOptions(
    new Command('pull')
      .argument('<source>', 'hf:owner/repo/file.gguf, hf:owner/repo:quant or an https URL')
      .description(
        'download a model into the models directory (resumes an interrupted pull), check it, advertise it',
      )
      .option('--sha256 <hex>', 'refuse the file unless it has this sha256')
      .option(
        '--size <bytes>',
        'refuse the file unless it has this size',
        parseIntegerIn(1, Number.MAX_SAFE_INTEGER),
      )
      .option('--name <name>', "the model's name (default: node-llama-cpp's file name for the source)"),
  ).action(async (source: string, options: PullOptions) => {
    const api = await connectDaemon(options)
    const body = {
      source,
      ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
      ...(options.size === undefined ? {} : { size: options.size }),
      ...(options.name === undefined ? {} : { name: options.name }),
    }
    const bar = progressBar('pulling', { enabled: !options.json })
    const { model, projector } = await api.pullModel(body, { onProgress: bar.show }).finally(bar.end)
    if (options.json) return void process.stdout.write(`${printableJson(model)}\n`)
    process.stdout.write(
      `pulled ${printable(model.name)} (${formatBytes(model.size_bytes)}, sha256 ${model.sha256})\n`,
    )
    if (projector === null) return
    process.stdout.write(
      'file' in projector
        ? `with its projector ${printable(projector.file)}: it takes images\n`
        : `without its projector (${printable(projector.error)}): it serves text only\n`,
    )
  })
}
