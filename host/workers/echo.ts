/** `echo`: answers its input unchanged, after an optional delay. The mesh's smallest task, for tests and benchmarks. */
import { z } from 'zod'
import type { Worker } from './worker.ts'

const MAX_DELAY_MS = 60_000

export const EchoInputSchema = z.strictObject({
  message: z.json(),
  /** Waits this long first (a stand-in for real work in tests of leases and cancellation). */
  delay_ms: z.number().int().min(0).max(MAX_DELAY_MS).default(0),
})
export const EchoOutputSchema = z.strictObject({ message: z.json() })

export const echoWorker: Worker<typeof EchoInputSchema, typeof EchoOutputSchema> = {
  kind: 'echo',
  input: EchoInputSchema,
  output: EchoOutputSchema,
  async run(input, ctx) {
    if (input.delay_ms > 0) await abortableDelay(input.delay_ms, ctx.signal)
    return { output: { message: input.message } }
  },
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
