/** What the inference workers share: how a result names its model, and the model acquired with its load progress. */
import { z } from 'zod'
import { ModelNameSchema, Sha256HexSchema } from '../../zomes-bindings/index.ts'
import type { EngineModel } from '../inference/engine/engine-model.ts'
import { KEEP_FOREVER, MAX_KEEP_ALIVE_MS } from '../inference/keep-alive.ts'
import { type Progress, progressFraction } from '../interface/progress.ts'
import type { WorkerContext } from './worker.ts'
import type { WorkerModels } from './worker-models.ts'

/** The model that produced a result, by file hash: the name alone could be any file. */
export const ModelFactsSchema = z.strictObject({
  name: ModelNameSchema,
  file_hash: Sha256HexSchema,
  parameters: z.number().int().min(0),
  quantisation: z.string().nullable(),
})

export function modelFacts(loaded: EngineModel): z.output<typeof ModelFactsSchema> {
  const { name, sha256, parameters, quantisation } = loaded.info
  return { name, file_hash: sha256, parameters, quantisation }
}

// Each progress event is a signal to the requester; llama.cpp reports every percent.
const LOAD_PROGRESS_STEP = 0.05

/** Reports the load of `model` every 5%: a `load` event, the engine's Progress as it is. */
function loadProgress(ctx: WorkerContext, model: string): (progress: Progress) => void {
  let reported = -1
  return (progress) => {
    const fraction = progressFraction(progress) ?? 0
    if (fraction < 1 && fraction - reported < LOAD_PROGRESS_STEP) return
    reported = fraction
    ctx.onEvent({ type: 'load', model, progress })
  }
}

/** A request's keep-alive as it travels to the runner: ms, or -1 for never. */
export const KeepAliveMsSchema = z.number().int().min(-1).max(MAX_KEEP_ALIVE_MS)

/** What a request's keep-alive asks of the model's manager (nothing when it set none). */
function keepAliveOf(ms: number | undefined): { keepAliveMs?: number } {
  return ms === undefined ? {} : { keepAliveMs: ms === -1 ? KEEP_FOREVER : ms }
}

/** The model an inference input means, loaded (reporting the load's progress) under the input's keep-alive. */
export async function acquireMeant(
  models: WorkerModels,
  input: { model?: string | undefined; keep_alive_ms?: number | undefined },
  ctx: WorkerContext,
) {
  const name = await models.meant(input.model)
  return models.acquire(name, {
    signal: ctx.signal,
    onProgress: loadProgress(ctx, name),
    ...keepAliveOf(input.keep_alive_ms),
  })
}
