import { describe, expect, it } from 'vitest'
import { echoWorker } from '../../../host/workers/echo.ts'
import { sha256Worker } from '../../../host/workers/sha256.ts'
import { DuplicateWorkerError, WorkerRegistry } from '../../../host/workers/worker-registry.ts'

const ctx = (signal = new AbortController().signal) => ({ signal, onEvent: () => {} })

describe('built-in workers', () => {
  it('sha256 hashes text or base64 bytes', async () => {
    const text = await sha256Worker.run(sha256Worker.input.parse({ data: 'hello' }), ctx())
    expect(text.output).toEqual({
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
      bytes: 5,
    })
    const bytes = await sha256Worker.run(
      sha256Worker.input.parse({ data: 'aGVsbG8=', encoding: 'base64' }),
      ctx(),
    )
    expect(bytes.output).toEqual(text.output)
    expect(sha256Worker.input.safeParse({ data: 1 }).success).toBe(false)
  })

  it('echo answers its message, and stops waiting when aborted', async () => {
    expect((await echoWorker.run(echoWorker.input.parse({ message: { a: [1] } }), ctx())).output).toEqual({
      message: { a: [1] },
    })
    const controller = new AbortController()
    const run = echoWorker.run(
      echoWorker.input.parse({ message: 'x', delay_ms: 60_000 }),
      ctx(controller.signal),
    )
    controller.abort(new Error('lease lost'))
    await expect(run).rejects.toThrow('lease lost')
  })

  it('the registry holds the built-ins and refuses a second worker for a kind', () => {
    const registry = WorkerRegistry.withBuiltins()
    expect(registry.kinds()).toEqual(['echo', 'sha256'])
    expect(() => registry.register(echoWorker)).toThrow(DuplicateWorkerError)
    expect(registry.get('infer.generate')).toBeUndefined()
  })
})
