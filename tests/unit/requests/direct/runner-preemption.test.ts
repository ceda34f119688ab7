/**
 * A runner parks a lower band's request for a higher band's (issue 58, point 2): on a one-slot runner,
 * a batch request running is parked when an interactive one comes, the interactive one runs in its
 * slot, and the batch one resumes after it: its caller gets every piece once, in order, and no error.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { silentLogger } from '../../../../host/log/logger.ts'
import { NO_POLICY_VERDICT } from '../../../../host/policy/cedar-engine.ts'
import { newDirectRequest } from '../../../../host/requests/direct/direct-request.ts'
import { DirectRunner } from '../../../../host/requests/direct/direct-runner.ts'
import type { Worker } from '../../../../host/workers/worker.ts'
import { A, B, fakeConductor, ME, MODEL } from './direct-fixtures.ts'

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

/**
 * An engine stand-in: 8 pieces, one a tick; parked, it stops, waits for a slot, and goes on. `parkMs`:
 * what it says a park costs against its time left (a tick a piece); none: no odds given.
 */
function pieces(log: string[], parkMs?: number): Worker {
  return {
    kind: 'infer.generate',
    input: z.object({ model: z.string(), prompt: z.string() }),
    output: z.object({ text: z.string() }),
    run: async (input: { prompt: string }, ctx) => {
      let parkAsked: (() => void) | null = null
      let text = ''
      for (let i = 0; i < 8; i++) {
        const parked = new Promise<void>((resolve) => {
          parkAsked = resolve
        })
        const odds = parkMs === undefined ? undefined : () => ({ leftMs: (8 - i) * 5, parkMs })
        ctx.yielding?.parkable(async () => parkAsked?.(), odds)
        const wasParked = await Promise.race([tick().then(() => false), parked.then(() => true)])
        ctx.yielding?.parkable(null)
        if (wasParked) {
          log.push(`${input.prompt} parked`)
          await ctx.yielding?.resume(ctx.signal)
          log.push(`${input.prompt} resumed`)
        }
        const piece = `${input.prompt}${i} `
        text += piece
        ctx.onEvent({ type: 'token', text: piece })
      }
      log.push(`${input.prompt} done`)
      return { output: { text } }
    },
  }
}

function oneSlot(log: string[], parkMs?: number) {
  const worker = pieces(log, parkMs)
  return new DirectRunner({
    conductor: fakeConductor(ME).conductor,
    workers: { get: () => worker },
    policies: { decide: async () => NO_POLICY_VERDICT },
    slotsOf: () => ({ slots: 1, busy: 0 }),
    batchWindowMs: 5,
    logger: silentLogger(),
  })
}

function ask(runner: DirectRunner, prompt: string, requester: string, band: 'batch' | 'interactive') {
  const got: string[] = []
  const sink = {
    accepted: () => {},
    onEvent: (e: { type: string; text?: string }) => void got.push(e.text ?? ''),
  }
  const request = newDirectRequest('infer.generate', MODEL, { prompt })
  const done = runner.run(request, requester, sink, new AbortController().signal, false, band)
  return { got, done }
}

describe('a runner with priority bands', () => {
  it('parks the batch request for the interactive one and resumes it whole', async () => {
    const log: string[] = []
    const runner = oneSlot(log)
    const batch = ask(runner, 'b', A, 'batch')
    await tick()
    await tick()
    // Every slot taken, by a lower band: not refused as busy, though not asked to queue.
    const interactive = ask(runner, 'i', B, 'interactive')
    const [b, i] = await Promise.all([batch.done, interactive.done])
    expect(log).toEqual(['b parked', 'i done', 'b resumed', 'b done'])
    const whole = Array.from({ length: 8 }, (_, n) => `b${n} `).join('')
    expect(batch.got.join('')).toBe(whole)
    expect(b.output).toEqual({ text: whole })
    expect(i.output).toEqual({ text: Array.from({ length: 8 }, (_, n) => `i${n} `).join('') })
  })

  it('where the batch request ends before a park would, the interactive one waits for its slot instead', async () => {
    const log: string[] = []
    const runner = oneSlot(log, 1_000)
    const batch = ask(runner, 'b', A, 'batch')
    await tick()
    await tick()
    // Not asked to queue, yet not refused: it waits for the slot the batch request is about to free.
    const interactive = ask(runner, 'i', B, 'interactive')
    await Promise.all([batch.done, interactive.done])
    expect(log).toEqual(['b done', 'i done'])
  })

  it('an interactive request is never parked, and a batch one finding it is refused as busy', async () => {
    const log: string[] = []
    const runner = oneSlot(log)
    const first = ask(runner, 'i', B, 'interactive')
    await tick()
    await expect(ask(runner, 'b', A, 'batch').done).rejects.toThrow(/busy/)
    await expect(ask(runner, 'j', A, 'interactive').done).rejects.toThrow(/busy/)
    await first.done
    expect(log).toEqual(['i done'])
  })
})
