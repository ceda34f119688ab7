import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import { routePath, routes } from '../../../host/api/contract/index.ts'
import { ModelNotFoundError, ModelUnusableError } from '../../../host/inference/model-manager.ts'
import { AGENT, baseInit, CAPABILITY, statusView } from './fixtures.ts'

const TOKEN = 'test-token-0123456789'
let server: ApiServer

beforeAll(async () => {
  server = new ApiServer(
    baseInit({
      token: TOKEN,
      bodyLimit: 64 * 1024,
      node: { status: statusView },
      components: {
        models: {
          list: async () => ({
            models: [],
            unusable: [{ path: '/tmp/x/models/cut.gguf', reason: 'truncated' }],
          }),
          load: async (name) => {
            throw name === 'cut'
              ? new ModelUnusableError(name, 'truncated')
              : new ModelNotFoundError(name, [])
          },
          unload: async () => false,
        },
      },
    }),
  )
  await server.start()
})

afterAll(async () => {
  await server.stop()
})

interface Sent {
  status: number
  body: { error?: { name: string; message: string; details?: unknown } } & Record<string, unknown>
}

async function send(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Sent> {
  const headers = new Headers(init.headers)
  const token = init.token === undefined ? TOKEN : init.token
  if (token !== null) headers.set('authorization', `Bearer ${token}`)
  const res = await fetch(`${server.url}${path}`, { ...init, headers })
  return { status: res.status, body: (await res.json()) as Sent['body'] }
}

const json = (body: string, token?: string | null): RequestInit & { token?: string | null } => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
  token,
})

const zomePath = (dna: string, fn: string) => routePath(routes.callZome.path, { dna, fn })

/** After every bad request the daemon must still answer a good one. */
async function expectAlive(): Promise<void> {
  const res = await send(routes.status.path)
  expect(res.status).toBe(200)
  expect(res.body.agent).toBe(AGENT)
}

describe('API bad requests', () => {
  it('answers 401 without a token', async () => {
    const res = await send(routes.status.path, { token: null })
    expect(res.status).toBe(401)
    expect(res.body.error?.name).toBe('UnauthorizedError')
    await expectAlive()
  })

  it('answers 401 with a wrong token, and does not reveal whether a route exists', async () => {
    expect((await send(routes.status.path, { token: 'nope' })).status).toBe(401)
    expect((await send('/api/no-such-route', { token: 'nope' })).status).toBe(401)
    await expectAlive()
  })

  it('answers 400 to malformed JSON', async () => {
    const res = await send(zomePath('agent_registry', 'advertise_capability'), json('{"name": '))
    expect(res.status).toBe(400)
    expect(res.body.error?.name).toBe('MalformedJsonError')
    await expectAlive()
  })

  it('answers 400 with the issue paths to a payload that breaks the contract', async () => {
    const bad = { ...CAPABILITY, name: '', hardware: { ...CAPABILITY.hardware, ram_bytes: -1 } }
    const res = await send(zomePath('agent_registry', 'advertise_capability'), json(JSON.stringify(bad)))
    expect(res.status).toBe(400)
    expect(res.body.error?.name).toBe('InvalidPayloadError')
    const issues = (res.body.error?.details as { issues: { path: string[] }[] } | undefined)?.issues ?? []
    expect(issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['name', 'hardware.ram_bytes']),
    )
    await expectAlive()
  })

  it('answers 400 naming the field to a name with escape codes, before any rule runs', async () => {
    const bad = { ...CAPABILITY, name: '\u001b[2Jmallory (self)' }
    const res = await send(zomePath('agent_registry', 'advertise_capability'), json(JSON.stringify(bad)))
    expect(res.status).toBe(400)
    const issues = (res.body.error?.details as { issues: { path: string[]; message: string }[] } | undefined)
      ?.issues
    expect(issues).toEqual([
      expect.objectContaining({ path: ['name'], message: 'must not contain control or bidi characters' }),
    ])
    await expectAlive()
  })

  it('answers 404 to an unknown zome function, an unknown DNA and an unknown route', async () => {
    const fn = await send(zomePath('agent_registry', 'drop_tables'), json('null'))
    expect(fn.status).toBe(404)
    expect(fn.body.error?.name).toBe('UnknownZomeFunctionError')
    // Names of Object.prototype members are not zome functions.
    expect((await send(zomePath('agent_registry', 'toString'), json('null'))).status).toBe(404)
    expect((await send(zomePath('no_such_dna', 'list_nodes'), json('null'))).body.error?.name).toBe(
      'UnknownDnaError',
    )
    expect((await send('/api/nothing-here')).status).toBe(404)
    await expectAlive()
  })

  it('answers 413 to a body over the limit', async () => {
    const huge = JSON.stringify({ name: 'x'.repeat(200 * 1024) })
    const res = await send(zomePath('agent_registry', 'advertise_capability'), json(huge))
    expect(res.status).toBe(413)
    expect(res.body.error?.name).toBe('PayloadTooLargeError')
    await expectAlive()
  })

  it('answers 422 with the rule when the conductor rejects the entry', async () => {
    const body = JSON.stringify({ ...CAPABILITY, name: 'rejected-by-rules' })
    const res = await send(zomePath('agent_registry', 'advertise_capability'), json(body))
    expect(res.status).toBe(422)
    expect(res.body.error).toMatchObject({
      name: 'InvalidEntryError',
      details: { rule: 'node_capability.name' },
    })
    await expectAlive()
  })

  it('answers 404 naming the function when the backend does not run it yet (was 501)', async () => {
    const res = await send(zomePath('agent_registry', 'find_nodes_by_tag'), json('"gpu"'))
    expect(res.status).toBe(404)
    expect(res.body.error).toMatchObject({
      name: 'ZomeFunctionNotImplementedError',
      details: { field: 'fn' },
    })
    await expectAlive()
  })

  it('answers 404 to loading an unknown model and 422 to loading an unusable one', async () => {
    const unknown = await send(routePath(routes.loadModel.path, { name: 'nope' }), { method: 'POST' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({ name: 'ModelNotFoundError', details: { available: [] } })
    const cut = await send(routePath(routes.loadModel.path, { name: 'cut' }), { method: 'POST' })
    expect(cut.status).toBe(422)
    expect(cut.body.error).toEqual({
      name: 'ModelUnusableError',
      message: 'model "cut" cannot be loaded: truncated',
    })
    await expectAlive()
  })

  it('calls a function that takes no input without a body', async () => {
    const res = await fetch(`${server.url}/api/zome/agent_registry/list_nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual([])
  })

  it('answers a function whose output is null with a JSON null', async () => {
    const res = await send(zomePath('agent_registry', 'get_capability'), json(JSON.stringify(AGENT)))
    expect(res.status).toBe(200)
    expect(res.body).toBeNull()
  })
})
