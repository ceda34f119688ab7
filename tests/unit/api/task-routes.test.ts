import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiServer } from '../../../host/api/api-server.ts'
import { ApiClient, ApiRequestError, StreamEndedError } from '../../../host/api/client/index.ts'
import type { SubmitTaskBody, TaskEvent } from '../../../host/api/contract/index.ts'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'
import { type TestHost, task, testHost } from '../scheduler/fixtures.ts'
import { tasksApiServer } from './fixtures.ts'

const TOKEN = 'test-token-0123456789'
let mesh: Mesh
let host: TestHost
let other: EmbeddedConductor
let server: ApiServer
let api: ApiClient

beforeAll(async () => {
  mesh = await openMesh(2)
  host = testHost(mesh.conductors[0] as EmbeddedConductor)
  other = mesh.conductors[1] as EmbeddedConductor
  server = tasksApiServer(host, TOKEN)
  await server.start()
  api = new ApiClient({ baseUrl: server.url, token: TOKEN })
})

afterAll(async () => {
  await server.stop()
  await mesh.close()
})

/** The error a call fails with (the client throws ApiRequestError with the status and the API's error). */
async function failure(call: Promise<unknown>): Promise<ApiRequestError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ApiRequestError)
  return err as ApiRequestError
}

const issuePaths = (err: ApiRequestError) =>
  (err.details as { issues: { path: string[] }[] }).issues.map((i) => i.path.join('.'))

describe('task and policy routes', () => {
  it('submits with defaults and answers the task hash', async () => {
    const ref = await api.submitTask({
      kind: 'echo',
      input: { message: 'hi' },
      requirements: { min_cores: 1 },
    })
    const view = await api.getTask(ref.action_hash)
    expect(view).toMatchObject({
      state: {
        task: {
          entry: {
            kind: 'echo',
            lease_ms: 60_000,
            max_attempts: 3,
            fan_out: 1,
            requirements: { min_cores: 1, min_ram_bytes: 0, gpu: false, model: null, tags: [] },
          },
        },
      },
    })
    const fanned = await api.submitTask({ kind: 'echo', input: { message: 'hi' }, fan_out: 3 })
    expect(await api.getTask(fanned.action_hash)).toMatchObject({
      state: { task: { entry: { fan_out: 3 } } },
    })
  })

  it('refuses a bad task with the problems and their paths', async () => {
    const badKind = await failure(
      api.submitTask({ kind: 'Echo', input: { message: 'hi' }, lease_ms: 5, fan_out: 17 }),
    )
    expect(badKind).toMatchObject({ status: 400, errorName: 'InvalidPayloadError' })
    expect(issuePaths(badKind)).toEqual(['kind', 'lease_ms', 'fan_out'])
    // What a caller without our types might send.
    const untyped = { kind: 'echo', input: { message: 'hi' }, requirements: { gpu: 'yes', colour: 1 } }
    const badNeeds = await failure(api.submitTask(untyped as unknown as SubmitTaskBody))
    expect(badNeeds.status).toBe(400)
    expect(issuePaths(badNeeds)).toEqual(expect.arrayContaining(['requirements.gpu', 'requirements']))
  })

  it('says 400 for a hash that is not one, 404 for a task it does not hold', async () => {
    expect((await failure(api.getTask('nope'))).status).toBe(400)
    const foreign = await other.callZome('resource_mesh', 'submit_task', task())
    expect(await failure(api.getTask(foreign.action_hash))).toMatchObject({
      status: 404,
      errorName: 'TaskNotFoundError',
    })
  })

  it("refuses to cancel another agent's task with 403", async () => {
    const foreign = await other.callZome('resource_mesh', 'submit_task', task())
    mesh.sync()
    expect(await failure(api.cancelTask(foreign.action_hash, 'not mine'))).toMatchObject({
      status: 403,
      errorName: 'NotTaskAuthorError',
    })
  })

  it("follows a task in one request: the event stream ends with the task's final view", async () => {
    const requests: string[] = []
    const counting = new ApiClient({
      baseUrl: server.url,
      token: TOKEN,
      fetch: (input, init) => {
        requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`)
        return fetch(input, init)
      },
    })
    const ref = await api.submitTask({ kind: 'echo', input: { message: 'hi' } })
    await api.cancelTask(ref.action_hash, 'changed my mind')
    const events: TaskEvent[] = []
    // Watches are told by the running scheduler.
    await host.scheduler.start()
    const streamed: TaskEvent[] = []
    const view = await (async () => {
      try {
        // The events alone, without the view; then followed to the view.
        for await (const event of api.taskEvents(ref.action_hash)) streamed.push(event)
        return await counting.followTask(ref.action_hash, { onEvent: (e) => void events.push(e) })
      } finally {
        await host.scheduler.stop()
      }
    })()
    expect(streamed).toEqual(events)
    expect(events).toEqual([{ type: 'status', status: 'cancelled', attempt: null, assignee: null }])
    expect(view.state).toMatchObject({
      status: 'cancelled',
      task: { action_hash: ref.action_hash },
      cancellation: { entry: { reason: 'changed my mind' } },
    })
    expect(requests).toEqual([`GET /api/tasks/${ref.action_hash}/events`])
  })

  it('says the stream ended early when it closes before the final view', async () => {
    const status = { type: 'status', status: 'done', attempt: 1, assignee: null }
    const cut = new ApiClient({
      baseUrl: server.url,
      token: TOKEN,
      fetch: async () =>
        new Response(`event: status\ndata: ${JSON.stringify(status)}\n\n`, {
          headers: { 'content-type': 'text/event-stream' },
        }),
    })
    const seen: TaskEvent[] = []
    const err = await cut.followTask('uhCkk', { onEvent: (e) => void seen.push(e) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StreamEndedError)
    expect(seen).toEqual([status])
  })

  it('stops the wait and reads of GET /api/served when its client goes away', async () => {
    // The record of a request still being written, whose reads (a holder asked) outlast the client.
    const signals: AbortSignal[] = []
    const reading = (signal: AbortSignal | undefined) =>
      new Promise<never>((_, reject) => {
        signals.push(signal!)
        signal?.addEventListener('abort', () => reject(signal.reason))
      })
    const served = tasksApiServer(host, TOKEN, {
      components: {
        direct: {
          served: (_request, options) => reading(options?.signal),
          checkLeaf: (_proof, options) => reading(options?.signal),
        },
      },
    })
    await served.start()
    try {
      const client = new AbortController()
      const asked = fetch(`${served.url}/api/served/${'ab'.repeat(32)}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: client.signal,
      })
      await expect.poll(() => signals.length).toBe(1)
      expect(signals[0]?.aborted).toBe(false)
      client.abort()
      await expect(asked).rejects.toThrow()
      await expect.poll(() => signals[0]?.aborted).toBe(true)
      expect((signals[0]!.reason as Error).name).toBe('AbortError')
    } finally {
      await served.stop()
    }
  })

  it('lists policies and refuses Cedar that does not parse', async () => {
    expect(await api.listPolicies()).toEqual({ policies: [] })
    expect(await failure(api.publishPolicy({ id: 'x', text: 'permit(' }))).toMatchObject({
      status: 400,
      errorName: 'InvalidPolicyTextError',
    })
  })
})
