/** `ripple models ls|load|unload`: the models of the running daemon, and what it holds in memory. */
import { Command } from 'commander'
import type { ModelsView } from '../../api/contract/index.ts'
import { printableJson } from '../../text/printable.ts'
import { formatBytes, formatCount, formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

export function modelsCommand(): Command {
  return new Command('models')
    .description('list, load and unload the GGUF models of the running daemon')
    .addCommand(lsCommand())
    .addCommand(loadCommand())
    .addCommand(unloadCommand())
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
      .description('load a model'),
  ).action(async (name: string, options: TargetOptions) => {
    const api = await connectDaemon(options)
    const progress = loadProgress(name)
    const loaded = await api.loadModel(name, { onProgress: options.json ? undefined : progress.show })
    progress.end()
    process.stdout.write(
      options.json
        ? `${JSON.stringify(loaded, null, 2)}\n`
        : `loaded ${loaded.model} in ${loaded.load_ms} ms (context ${loaded.context_size} tokens, ${loaded.threads} threads)\n`,
    )
  })
}

/** Shows a load's progress on stderr: one line kept updated on a terminal, else a line per 10%. */
function loadProgress(name: string) {
  const tty = process.stderr.isTTY
  let shownTenths = -1
  return {
    show(fraction: number): void {
      const percent = Math.round(fraction * 100)
      if (tty) process.stderr.write(`\rripple: loading ${name} ${percent}%`)
      else if (Math.floor(percent / 10) > shownTenths)
        process.stderr.write(`ripple: loading ${name} ${percent}%\n`)
      shownTenths = Math.floor(percent / 10)
    },
    /** Ends the line kept updated on a terminal. */
    end(): void {
      if (tty && shownTenths >= 0) process.stderr.write('\n')
    },
  }
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
    m.loaded ? 'yes' : 'no',
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
  return lines.join('\n')
}
