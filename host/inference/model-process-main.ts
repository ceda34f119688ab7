/**
 * A model process: loads one model into llama.cpp and runs the daemon's generate and embed requests
 * on it, one at a time (LoadedModel's turns), streaming text back as it is produced. If llama.cpp
 * aborts (GGML_ASSERT on a file that passed every check), only this process dies; the daemon sees
 * the exit and the reason on this process's stderr.
 */
import '../runtime/node20-polyfills.ts'
import { createLogger } from '../log/logger.ts'
import { embed } from './embed.ts'
import { generate } from './generate.ts'
import { LlamaRuntime } from './llama-runtime.ts'
import { LoadedModel } from './loaded-model.ts'
import { ModelLoadError } from './model-errors.ts'
import type { FromModelProcess, LoadRequest, ToModelProcess, WireError } from './model-process-protocol.ts'

const send = (message: FromModelProcess) => process.send?.(message)
const wire = (err: unknown): WireError => ({
  name: (err as Error).name || 'Error',
  message: (err as Error).message || String(err),
})

let loaded: LoadedModel | null = null
let runtime: LlamaRuntime | null = null
const running = new Map<number, AbortController>()

async function load(request: LoadRequest): Promise<void> {
  const logger = createLogger(request.logLevel).child({ component: 'inference', model: request.info.name })
  runtime = new LlamaRuntime({ threads: request.threads, logger })
  try {
    const llama = await runtime.get()
    runtime.takeErrors()
    const startedAt = performance.now()
    const model = await llama
      .loadModel({
        modelPath: request.info.path,
        onLoadProgress: (fraction) => send({ type: 'load-progress', fraction }),
      })
      .catch((err: unknown) => {
        throw new ModelLoadError(request.info.name, runtime?.takeErrors() ?? [], err)
      })
    loaded = new LoadedModel({
      info: request.info,
      llama,
      model,
      contextSize: Math.min(request.contextSize, model.trainContextSize),
      threads: runtime.threads,
      loadMs: Math.round(performance.now() - startedAt),
    })
    send({ type: 'loaded', loadMs: loaded.loadMs, contextSize: loaded.contextSize, threads: loaded.threads })
  } catch (err) {
    send({ type: 'load-failed', error: wire(err) })
    process.exit(1)
  }
}

async function serve(
  id: number,
  job: (model: LoadedModel, signal: AbortSignal) => Promise<FromModelProcess>,
) {
  const controller = new AbortController()
  running.set(id, controller)
  try {
    if (!loaded) throw new Error('no model is loaded in this process')
    send(await job(loaded, controller.signal))
  } catch (err) {
    send({ type: 'failed', id, error: wire(err) })
  } finally {
    running.delete(id)
  }
}

async function unload(): Promise<void> {
  await loaded?.dispose()
  await runtime?.dispose()
  process.exit(0)
}

process.on('message', (message: ToModelProcess) => {
  switch (message.type) {
    case 'load':
      void load(message)
      break
    case 'generate':
      void serve(message.id, async (model, signal) => ({
        type: 'generated',
        id: message.id,
        result: await generate(model, message.request, {
          signal,
          onText: (text) => send({ type: 'text', id: message.id, text }),
        }),
      }))
      break
    case 'embed':
      void serve(message.id, async (model, signal) => ({
        type: 'embedded',
        id: message.id,
        result: await embed(model, message.texts, signal),
      }))
      break
    case 'abort':
      running.get(message.id)?.abort(new Error(message.reason))
      break
    case 'unload':
      void unload()
      break
  }
})
// The daemon went away (it closes the channel on exit): nothing is left to serve.
process.on('disconnect', () => process.exit(0))
