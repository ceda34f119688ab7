/**
 * What each runner served the mesh, from public records every peer holds (issue 47, point 4): per
 * author, the requests its `AnswerBatch`es counted, closed from a time on. Walks the resource_mesh
 * chains held here, each from where the last walk ended (cheap when asked often), and keeps two days
 * of batches. Only what is held counts: a batch not replicated here yet, or one behind a gap in its
 * chain when the walk passed, is not.
 */
import type { AnswerBatch } from '../../../zomes-bindings/index.ts'
import { decodeMsgpack } from '../../identity/canonical.ts'
import { encodeHashB64 } from '../../identity/hash.ts'
import { decodeAction } from './action.ts'
import type { EmbeddedConductor } from './conductor.ts'
import { entryTypeName } from './validation/record-rules.ts'

const KEEP_US = 2 * 24 * 3_600 * 1e6

/** Requests each runner's batches counted, by agent key, closed from `sinceMicros` on. */
export type AnswerCounts = (sinceMicros: number) => Map<string, number>

export function answerCounts(conductor: Pick<EmbeddedConductor, 'store' | 'cell'>): AnswerCounts {
  const walked = new Map<string, number>()
  const batches = new Map<string, { at: number; count: number }[]>()
  return (since) => {
    const { store } = conductor
    const cell = conductor.cell('resource_mesh')
    for (const { author } of store.chainHeads(cell.dnaHash)) {
      const agent = encodeHashB64(author)
      const held = batches.get(agent) ?? []
      let next = walked.get(agent) ?? 0
      for (const action of store.chainActions(cell.dnaHash, author, next)) {
        next = action.seq + 1
        if (action.entryHash === null) continue
        if (entryTypeName(decodeAction(action.bytes), cell.dna) !== 'AnswerBatch') continue
        const entry = store.getEntry(action.entryHash)
        if (entry === null) continue
        const batch = decodeMsgpack(entry.bytes) as AnswerBatch
        held.push({ at: batch.closed_at, count: batch.totals.count })
      }
      walked.set(agent, next)
      const newest = held.reduce((t, b) => Math.max(t, b.at), 0)
      batches.set(
        agent,
        held.filter((b) => b.at >= newest - KEEP_US),
      )
    }
    const counts = new Map<string, number>()
    for (const [agent, held] of batches) {
      const n = held.reduce((sum, b) => sum + (b.at >= since ? b.count : 0), 0)
      if (n > 0) counts.set(agent, n)
    }
    return counts
  }
}
