/**
 * A request with images, checked where it enters: the route table sends it straight to one runner,
 * and here to a model some peer serves with its projector; otherwise it is the caller's mistake, said
 * before anything runs.
 */
import { advertisesVision, hasImages } from '../inference/vision.ts'
import type { PeerEntry } from '../interface/live-peers.ts'
import { RunError } from './run-errors.ts'

export function imageRouteError(
  request: { model?: string; input: Record<string, unknown> },
  peers: readonly PeerEntry[],
): RunError | null {
  if (!hasImages(request.input)) return null
  const { model } = request
  const served = peers.some(
    (p) =>
      p.status !== 'offline' &&
      p.capability?.inference.models.some(
        (m) => m.name === model && p.capability !== null && advertisesVision(p.capability, m.file_hash),
      ),
  )
  if (served) return null
  return new RunError(
    'invalid',
    'model_without_vision',
    `model "${model}" takes no images: no peer serves it with a projector (${model}.mmproj.gguf beside ${model}.gguf)`,
    'model',
  )
}
