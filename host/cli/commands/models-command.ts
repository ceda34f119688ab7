/**
 * `ripple models ls|load|unload|pull`: the models of the running daemon, what it holds in memory, and
 * models fetched by name into its models directory.
 */
import { Command } from 'commander'
import type { ApiErrorBody } from '../../api/error-reply.ts'
import type { ModelLoadedView, ModelsView } from '../../api/routes/models-route.ts'
import type { GgufModel } from '../../inference/gguf-scan.ts'
import type { PullProgress } from '../../inference/model-pull.ts'
import { parseIntegerIn } from '../cli-options.ts'
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
    .addCommand(pullCommand())
}

function lsCommand(): Command {
  return addTargetOptions(
    new Command('ls').description(
      'list the models directory: usable models, loaded or not, and unusable files',
    ),
  ).action(async (options: TargetOptions) => {
    const view = await getJson<ModelsView>(await locateDaemon(options), '/api/models')
    if (options.json) {
      process.stdout.write(`${JSON.stringify(view, null, 2)}\n`)
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

interface PullOptions extends TargetOptions {
  sha256?: string
  size?: number
  name?: string
}

/** Thrown when a pull fails after its progress started streaming. */
export class ModelPullFailedError extends Error {
  static override readonly name = 'ModelPullFailedError'
  constructor(errorName: string, message: string) {
    super(`${errorName}: ${message}`)
    this.name = 'ModelPullFailedError'
  }
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
    const target = await locateDaemon(options)
    const body = {
      source,
      ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
      ...(options.size === undefined ? {} : { size: options.size }),
      ...(options.name === undefined ? {} : { name: options.name }),
    }
    const res = await openStream(target, '/api/models/pull', 'POST', body)
    const { model } = res.headers.get('content-type')?.includes('text/event-stream')
      ? await followPull(res, !options.json)
      : ((await res.json()) as { model: GgufModel })
    process.stdout.write(
      options.json
        ? `${JSON.stringify(model, null, 2)}\n`
        : `pulled ${model.name} (${formatBytes(model.size_bytes)}, sha256 ${model.sha256})\n`,
    )
  })
}

/** A progress bar on stderr (one line kept updated on a terminal, a line per tenth otherwise). */
async function followPull(res: Response, show: boolean): Promise<{ model: GgufModel }> {
  const tty = process.stderr.isTTY
  let shownTenths = -1
  for await (const { event, data } of readEvents(res)) {
    const body = JSON.parse(data) as PullProgress | { model: GgufModel } | ApiErrorBody
    if (event === 'pulled') {
      if (show && tty) process.stderr.write('\n')
      return body as { model: GgufModel }
    }
    if (event === 'error') {
      const { error } = body as ApiErrorBody
      throw new ModelPullFailedError(error.name, error.message)
    }
    const { downloaded_bytes: done, total_bytes: total } = body as PullProgress
    const fraction = total > 0 ? done / total : 0
    const bar = `[${'#'.repeat(Math.round(fraction * 30)).padEnd(30, '.')}] ${Math.floor(fraction * 100)}% ${formatBytes(done)} / ${formatBytes(total)}`
    if (show && tty) process.stderr.write(`\rripple: pulling ${bar}`)
    else if (show && Math.floor(fraction * 10) > shownTenths) {
      shownTenths = Math.floor(fraction * 10)
      process.stderr.write(`ripple: pulling ${bar}\n`)
    }
  }
  throw new ModelPullFailedError('StreamEndedError', 'the daemon closed the stream before the pull ended')
}
