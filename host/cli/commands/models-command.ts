/** `ripple models ls|load|unload`: the models of the running daemon, and what it holds in memory. */
import { Command } from 'commander'
import type { ApiErrorBody } from '../../api/error-reply.ts'
import type { ModelLoadedView, ModelsView } from '../../api/routes/models-route.ts'
import { printableJson } from '../../text/printable.ts'
import { getJson, locateDaemon, openStream, postJson } from '../daemon-client.ts'
import { readEvents } from '../event-stream.ts'
import { formatBytes, formatCount, formatTable } from '../human-format.ts'
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
    const view = await getJson<ModelsView>(await locateDaemon(options), '/api/models')
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
    const target = await locateDaemon(options)
    const res = await openStream(target, `/api/models/${encodeURIComponent(name)}/load`, 'POST')
    // The daemon streams progress only while llama.cpp reads weights; otherwise it answers at once.
    const loaded = res.headers.get('content-type')?.includes('text/event-stream')
      ? await followLoad(res, name, !options.json)
      : ((await res.json()) as ModelLoadedView)
    process.stdout.write(
      options.json
        ? `${JSON.stringify(loaded, null, 2)}\n`
        : `loaded ${loaded.model} in ${loaded.load_ms} ms (context ${loaded.context_size} tokens, ${loaded.threads} threads)\n`,
    )
  })
}

/** Thrown when a model load fails after its progress started streaming. */
export class ModelLoadFailedError extends Error {
  static override readonly name = 'ModelLoadFailedError'
  constructor(errorName: string, message: string) {
    super(`${errorName}: ${message}`)
    this.name = 'ModelLoadFailedError'
  }
}

/** Shows the load's progress on stderr (one line kept updated on a terminal); answers the loaded model. */
async function followLoad(res: Response, name: string, show: boolean): Promise<ModelLoadedView> {
  const tty = process.stderr.isTTY
  let shownTenths = -1
  for await (const { event, data } of readEvents(res)) {
    const body = JSON.parse(data) as { fraction: number } | ModelLoadedView | ApiErrorBody
    if (event === 'loaded') {
      if (show && tty) process.stderr.write('\n')
      return body as ModelLoadedView
    }
    if (event === 'error') {
      const { error } = body as ApiErrorBody
      throw new ModelLoadFailedError(error.name, error.message)
    }
    const percent = Math.round((body as { fraction: number }).fraction * 100)
    if (show && tty) process.stderr.write(`\rripple: loading ${name} ${percent}%`)
    else if (show && Math.floor(percent / 10) > shownTenths) {
      shownTenths = Math.floor(percent / 10)
      process.stderr.write(`ripple: loading ${name} ${percent}%\n`)
    }
  }
  throw new ModelLoadFailedError('StreamEndedError', `the daemon closed the stream before ${name} loaded`)
}

function unloadCommand(): Command {
  return addTargetOptions(
    new Command('unload').argument('<name>', 'model name').description('unload a model, freeing its memory'),
  ).action(async (name: string, options: TargetOptions) => {
    const target = await locateDaemon(options)
    const res = await postJson<{ model: string; unloaded: boolean }>(
      target,
      `/api/models/${encodeURIComponent(name)}/unload`,
    )
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
