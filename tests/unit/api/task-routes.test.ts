import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'
import { type TestHost, task, testHost } from '../scheduler/fixtures.ts'

const TOKEN = 'test-token-0123456789'
let mesh: Mesh
let host: TestHost
let other: EmbeddedConductor
let server: ApiServer

beforeAll(async () => {
  mesh = await openMesh(2)
  host = testHost(mesh.conductors[0] as EmbeddedConductor)
  other = mesh.conductors[1] as EmbeddedConductor
  server = new ApiServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    status: () => {
      throw new Error('not used')
    },
    peers: async () => ({ peers: [], warrants: [] }),
    conductor: host.conductor,
    models: {
      list: async () => ({ models: [], unusable: [] }),
      load: async () => null!,
      unload: async () => false,
    },
    tasks: { scheduler: host.scheduler, workers: host.workers },
    policies: host.policies,
    logger: silentLogger(),
  })
  await server.start()
})

afterAll(async () => {
  await server.stop()
  await mesh.close()
})

async function send(path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { name: string; details?: unknown } },
  }
}

describe('task and policy routes', () => {
  it('submits with defaults and answers the task hash', async () => {
    const res = await send('/api/tasks', {
      kind: 'echo',
      input: { message: 'hi' },
      requirements: { min_cores: 1 },
    })
    expect(res.status).toBe(201)
    const view = await send(`/api/tasks/${res.body.action_hash as string}`)
    expect(view.body).toMatchObject({
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
    const fanned = await send('/api/tasks', { kind: 'echo', input: { message: 'hi' }, fan_out: 3 })
    const fannedView = await send(`/api/tasks/${fanned.body.action_hash as string}`)
    expect(fannedView.body).toMatchObject({ state: { task: { entry: { fan_out: 3 } } } })
  })

  it('refuses a bad task with the problems and their paths', async () => {
    const paths = (res: Awaited<ReturnType<typeof send>>) =>
      (res.body.error!.details as { issues: { path: string[] }[] }).issues.map((i) => i.path.join('.'))
    const badKind = await send('/api/tasks', {
      kind: 'Echo',
      input: { message: 'hi' },
      lease_ms: 5,
      fan_out: 17,
    })
    expect(badKind.status).toBe(400)
    expect(paths(badKind)).toEqual(['kind', 'lease_ms', 'fan_out'])
    const badNeeds = await send('/api/tasks', {
      kind: 'echo',
      input: { message: 'hi' },
      requirements: { gpu: 'yes', colour: 1 },
    })
    expect(badNeeds.status).toBe(400)
    expect(paths(badNeeds)).toEqual(expect.arrayContaining(['requirements.gpu', 'requirements']))
  })

  it('says 400 for a hash that is not one, 404 for a task it does not hold', async () => {
    expect((await send('/api/tasks/nope')).status).toBe(400)
    const unknown = await send(
      `/api/tasks/${(await other.callZome('resource_mesh', 'submit_task', task())).action_hash}`,
    )
    expect(unknown).toMatchObject({ status: 404, body: { error: { name: 'TaskNotFoundError' } } })
  })

  it("refuses to cancel another agent's task with 403", async () => {
    const foreign = await other.callZome('resource_mesh', 'submit_task', task())
    mesh.sync()
    const res = await send(`/api/tasks/${foreign.action_hash}/cancel`, { reason: 'not mine' })
    expect(res).toMatchObject({ status: 403, body: { error: { name: 'NotTaskAuthorError' } } })
  })

  it('lists policies and refuses Cedar that does not parse', async () => {
    expect(await send('/api/policies')).toEqual({ status: 200, body: { policies: [] } })
    const bad = await send('/api/policies', { id: 'x', text: 'permit(' })
    expect(bad).toMatchObject({ status: 400, body: { error: { name: 'InvalidPolicyTextError' } } })
  })
})
