/**
 * The typed client against the real API server (fake services behind it): paths built from the
 * route contract, answers checked against it, model-load progress, aborts and unreachable daemons.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import {
  ApiClient,
  ApiRequestError,
  DaemonUnreachableError,
  InvalidReplyError,
  ModelLoadFailedError,
} from '../../../host/api/client/index.ts'
import { MissingRouteParamError, routePath, type StatusView } from '../../../host/api/contract/index.ts'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import { OWN_STATEMENT } from '../../../host/interface/release.ts'
import { dhtLocation, HOLO_HASH_PREFIXES } from '../../../zomes-bindings/index.ts'
import { AGENT, baseInit, CAPABILITY } from './fixtures.ts'

const TOKEN = 'client-token-0123456789'
let server: ApiServer
let api: ApiClient
let status: StatusView
/** The wait route's waiter: calls `waiting` once asked, answers when `release` is called. */
let waiting: () => void = () => {}
let release: (stored: boolean) => void = () => {}
/** The signal the models route gave the last load of `slow`, which waits until it aborts. */
const slowLoad = Promise.withResolvers<AbortSignal>()

const loaded = (name: string) =>
  ({
    info: { name, sha256: 'ab'.repeat(32) },
    loadMs: 12,
    contextSize: 2048,
    threads: 1,
  }) as unknown as EngineModel

beforeAll(async () => {
  status = {
    ...{
      agent: AGENT,
      network: 'local',
      network_id: 'ab'.repeat(32),
      progenitor: null,
      backend: 'embedded',
      version: '0.1.0',
    },
    pid: process.pid,
    ...{ data_dir: '/tmp/x', models_dir: '/tmp/x/models', uptime_ms: 1, multiaddrs: [], warrants: [] },
    ...{
      capability: CAPABILITY,
      unusable_models: [],
      loaded_models: [],
      engine: null,
      rpc_cache: null,
      standing: null,
      release: OWN_STATEMENT,
    },
  }
  server = new ApiServer(
    baseInit({
      token: TOKEN,
      node: { status: () => status },
      components: {
        backend: {
          waitForAction: () => {
            waiting()
            return new Promise((resolve) => {
              release = resolve
            })
          },
        },
        models: {
          list: async () => ({ models: [], unusable: [] }),
          load: async (name, { signal, onProgress } = {}) => {
            if (name === 'loaded') return loaded(name)
            if (name === 'slow' && signal) {
              slowLoad.resolve(signal)
              return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
            }
            onProgress?.({ stage: 'load', done: 25, total: 100, unit: 'percent' })
            onProgress?.({ stage: 'load', done: 100, total: 100, unit: 'percent' })
            if (name === 'breaks')
              throw Object.assign(new Error('llama.cpp refused it'), { name: 'ModelLoadError' })
            return loaded(name)
          },
          unload: async () => true,
        },
      },
    }),
  )
  await server.start()
  api = new ApiClient({ baseUrl: server.url, token: TOKEN })
})

afterAll(async () => {
  await server.stop()
})

describe('routePath', () => {
  it('fills and encodes params, adds the query, and refuses a missing param', () => {
    expect(routePath('/api/models/:name/load', { name: 'a b/c' })).toBe('/api/models/a%20b%2Fc/load')
    expect(routePath('/api/records/:hash/wait', { hash: 'uhCkk' }, { timeout_ms: 5 })).toBe(
      '/api/records/uhCkk/wait?timeout_ms=5',
    )
    expect(() => routePath('/api/tasks/:hash', {})).toThrow(MissingRouteParamError)
  })
})

describe('ApiClient', () => {
  it('answers typed, contract-checked replies and builds paths from the routes', async () => {
    expect((await api.status()).agent).toBe(AGENT)
    expect(await api.unloadModel('a b/c')).toEqual({ model: 'a b/c', unloaded: true })
    expect(await api.callZome('agent_registry', 'get_capability', AGENT)).toBeNull()
  })

  it('streams model-load progress to the callback and answers the loaded model', async () => {
    const fractions: number[] = []
    const view = await api.loadModel('fresh', { onProgress: (p) => fractions.push(p.done / (p.total ?? 1)) })
    expect(fractions).toEqual([0.25, 1])
    expect(view).toEqual({
      model: 'fresh',
      file_hash: 'ab'.repeat(32),
      load_ms: 12,
      context_size: 2048,
      threads: 1,
    })
    // A model already loaded is answered at once, without a stream.
    expect((await api.loadModel('loaded', { onProgress: () => fractions.push(-1) })).model).toBe('loaded')
    expect(fractions).toEqual([0.25, 1])
    await expect(api.loadModel('breaks')).rejects.toThrow(ModelLoadFailedError)
  })

  it('throws ApiRequestError with the status, name and details of a refused request', async () => {
    const err = await api.callZome('agent_registry', 'get_capability', 'nope').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiRequestError)
    expect(err).toMatchObject({ status: 400, errorName: 'InvalidPayloadError' })
    expect((err as ApiRequestError).details).toMatchObject({
      issues: [expect.objectContaining({ path: [] })],
    })
    const wrongToken = new ApiClient({ baseUrl: server.url, token: 'wrong' })
    await expect(wrongToken.status()).rejects.toMatchObject({ status: 401, errorName: 'UnauthorizedError' })
  })

  it('refuses an answer that breaks the contract, naming the field', async () => {
    const good = status
    status = { ...status, agent: 'not-an-agent-key' }
    try {
      const err = await api.status().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidReplyError)
      expect((err as Error).message).toMatch(
        /^the daemon's answer to status does not match the API contract \(agent: /,
      )
    } finally {
      status = good
    }
  })

  it('gives up a call when its signal aborts', async () => {
    const controller = new AbortController()
    waiting = () => controller.abort()
    const core = new Uint8Array(32).fill(3)
    const hash = `u${Buffer.concat([HOLO_HASH_PREFIXES.action, core, dhtLocation(core)]).toString('base64url')}`
    await expect(api.waitForRecord(hash, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    })
    // The server's side of the request ends too, so the server can stop.
    release(false)
  })

  it('stops a model load on the daemon when the client gives up on it', async () => {
    const controller = new AbortController()
    const call = api.loadModel('slow', { signal: controller.signal })
    const signal = await slowLoad.promise
    expect(signal.aborted).toBe(false)
    controller.abort()
    await expect(call).rejects.toMatchObject({ name: 'AbortError' })
    await expect.poll(() => signal.aborted).toBe(true)
    expect(signal.reason).toMatchObject({ name: 'AbortError', message: 'the client went away' })
  })

  it('says no daemon answers when nothing listens at the URL', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN })
    await expect(client.status()).rejects.toThrow(DaemonUnreachableError)
  })
})
