/**
 * Where a backend tells nothing as records arrive (Holochain), the runner's batch a leaf's proof cites
 * is read through the conductor until it is there (then the leaf is checked and signed with its proof),
 * or the wait ends (then the leaf goes on record without it). Over a stand-in conductor port.
 */
import { describe, expect, it } from 'vitest'
import { polledBatchWait } from '../../../../host/requests/direct/polled-batch-wait.ts'

/** A conductor whose reads of the batch answer, in turn, `answers` (then the last one again). */
function conductorAnswering(answers: ('absent' | 'held' | 'unanswered')[]) {
  const asked: string[] = []
  const callZome = async (_dna: string, fn: string, hash: unknown) => {
    asked.push(`${fn} ${hash}`)
    const answer = answers[Math.min(asked.length, answers.length) - 1]
    if (answer === 'unanswered') throw new Error('response channel dropped: likely response timeout')
    return (answer === 'held' ? { action_hash: hash } : null) as never
  }
  return { conductor: { callZome } as Parameters<typeof polledBatchWait>[0], asked }
}

describe('a runner batch waited for by reading it', () => {
  it('is there once a read finds it, after reads that found nothing or were not answered', async () => {
    const { conductor, asked } = conductorAnswering(['absent', 'unanswered', 'held'])
    expect(await polledBatchWait(conductor, 5)('uBatch', 5_000)).toBe(true)
    expect(asked).toEqual(['get_answer_batch uBatch', 'get_answer_batch uBatch', 'get_answer_batch uBatch'])
  })

  it('is not there when the wait ends first', async () => {
    const { conductor, asked } = conductorAnswering(['absent'])
    const started = Date.now()
    expect(await polledBatchWait(conductor, 10)('uBatch', 50)).toBe(false)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(asked.length).toBeGreaterThanOrEqual(2)
  })

  it('is not there at the wait’s end when a read hangs past it (a get the conductor makes again and again)', async () => {
    // Holochain's get no peer answers is made again for about a minute (call-retry.ts): the read is
    // asked under the wait's deadline and given up at it.
    const callZome = (_dna: string, _fn: string, _hash: unknown, options?: { signal?: AbortSignal }) =>
      new Promise<never>((_, reject) => {
        options?.signal?.addEventListener('abort', () => reject(options.signal!.reason))
      })
    const conductor = { callZome } as Parameters<typeof polledBatchWait>[0]
    const started = Date.now()
    expect(await polledBatchWait(conductor, 10)('uBatch', 100)).toBe(false)
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})
