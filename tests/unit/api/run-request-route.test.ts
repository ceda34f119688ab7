/**
 * `POST /api/mesh/run` through the typed client (what `ripple infer` and MCP's generate_text use): the
 * run's events arrive in order before the answer, a failure before anything streamed is the status of
 * its kind, one after is the mesh's reason, and a caller that goes away cancels the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import { ApiClient, ApiRequestError, type RunEvent, RunFailedError } from '../../../host/api/client/index.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { RunError } from '../../../host/requests/run-errors.ts'
import { baseInit } from './fixtures.ts'

const seen: InferenceRequest[] = []
let cancelled: (reason: unknown) => void = () => {}

const runner = {
  run: async (request: InferenceRequest): Promise<InferenceAnswer> => {
    seen.push(request)
    if (request.model === 'absent') throw new RunError('not_found', 'model_not_found', 'on no peer')
    request.onEvent?.({ type: 'submitted', task: 'uhCkkTASK' })
    if (request.model === undefined) {
      request.onEvent?.({ type: 'waiting', reason: 'no node has any model' })
      throw new RunError('unavailable', 'no_capacity', 'no peer can serve task uhCkkTASK (cancelled it)')
    }
    if (request.model === 'slow')
      return new Promise((_, reject) =>
        request.signal.addEventListener('abort', () => {
          cancelled(request.signal.reason)
          reject(request.signal.reason)
        }),
      )
    request.onEvent?.({ type: 'assigned', peer: 'uhCAkPEER' })
    request.onEvent?.({ type: 'token', text: 'Once' })
    request.onEvent?.({ type: 'token', text: ' upon' })
    return { task: 'uhCkkTASK', peer: 'uhCAkPEER', output: { text: 'Once upon' } }
  },
} as unknown as RequestsPort

let server: ApiServer
let api: ApiClient

beforeAll(async () => {
  server = new ApiServer(baseInit({ components: { requests: runner } }))
  await server.start()
  api = new ApiClient({ baseUrl: server.url, token: 'the-token' })
})

afterAll(async () => {
  await server.stop()
})

describe('POST /api/mesh/run', () => {
  it('streams the run (named, taken, its text) before the answer', async () => {
    const events: RunEvent[] = []
    const answer = await api.runRequest(
      { kind: 'infer.generate', model: 'tiny', input: { prompt: 'x' }, fan_out: 1 },
      { onEvent: (event) => void events.push(event) },
    )
    expect(answer).toEqual({ task: 'uhCkkTASK', peer: 'uhCAkPEER', output: { text: 'Once upon' } })
    expect(events).toEqual([
      { type: 'submitted', task: 'uhCkkTASK' },
      { type: 'assigned', peer: 'uhCAkPEER' },
      { type: 'token', text: 'Once' },
      { type: 'token', text: ' upon' },
    ])
    expect(seen.at(-1)).toMatchObject({ kind: 'infer.generate', model: 'tiny', fanOut: 1 })
  })

  it('answers a failure before anything streamed with the status of its kind', async () => {
    const err = await api
      .runRequest({ kind: 'infer.embed', model: 'absent', input: {} })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiRequestError)
    expect(err).toMatchObject({
      status: 404,
      errorName: 'MeshRunError',
      details: { failure: 'not_found', code: 'model_not_found' },
    })
  })

  it('says why, as the mesh says it, when the run fails after it began', async () => {
    const events: RunEvent[] = []
    const err = await api
      .runRequest({ kind: 'infer.generate', input: { prompt: 'x' } }, { onEvent: (e) => void events.push(e) })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RunFailedError)
    expect((err as Error).message).toBe('no peer can serve task uhCkkTASK (cancelled it)')
    expect(events).toContainEqual({ type: 'waiting', reason: 'no node has any model' })
  })

  it('refuses a body that is not a run', async () => {
    const err = await api.runRequest({ kind: 'echo' as 'infer.generate', input: {} }).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 400 })
  })

  it('cancels the run when its caller goes away', async () => {
    const gone = new Promise((resolve) => {
      cancelled = resolve
    })
    const caller = new AbortController()
    const run = api.runRequest(
      { kind: 'infer.generate', model: 'slow', input: { prompt: 'x' } },
      { signal: caller.signal, onEvent: () => caller.abort() },
    )
    await expect(run).rejects.toThrow()
    expect(await gone).toMatchObject({ name: 'AbortError' })
  })
})
