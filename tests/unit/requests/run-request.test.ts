/**
 * Which way RequestRunner sends a request: straight to a runner for one answer (the default), the
 * scheduling round for fan-out, for `route: "round"`, and when no runner can be reached straight (the
 * Holochain backend has no mesh streams). The scheduler here only says it was asked: its submit
 * throws a marker, so a request that took the round fails with it.
 */
import { describe, expect, it } from 'vitest'
import type { PeerEntry } from '../../../host/interface/live-peers.ts'
import { NoDirectRouteError, NoRunnerError } from '../../../host/requests/direct/direct-errors.ts'
import type { InferenceRequest } from '../../../host/requests/requests-port.ts'
import { RequestRunner } from '../../../host/requests/run-request.ts'

const ROUND = new Error('took the scheduling round')

const holder = {
  agent: 'uhCAkHOLDER',
  self: false,
  status: 'online',
  name: 'holder',
  capability: {
    inference: {
      models: [{ name: 'tiny', loaded: true, file_hash: 'a'.repeat(64), size_bytes: 1, parameters: null }],
    },
    // No vision tag: the model is served as text only.
    tags: [],
  },
  load: null,
  last_heartbeat_ms_ago: 0,
} as unknown as PeerEntry

function inference(direct: () => Promise<{ request: string; peer: string; output: unknown }>) {
  const calls = { direct: 0 }
  const runner = new RequestRunner({
    scheduler: {
      submit: async () => {
        throw ROUND
      },
    } as never,
    workers: { get: () => undefined },
    peers: async () => [holder],
    direct: {
      run: async () => {
        calls.direct += 1
        return { ...(await direct()), recorded: Promise.resolve(null) }
      },
    },
  })
  return { runner, calls }
}

const request = (extra: Partial<InferenceRequest> = {}): InferenceRequest => ({
  kind: 'infer.generate',
  model: 'tiny',
  input: { prompt: 'hi' },
  fanOut: 1,
  signal: new AbortController().signal,
  ...extra,
})

describe('RequestRunner routes', () => {
  it('sends one answer straight to a runner, answering its output under the request hash', async () => {
    const { runner, calls } = inference(async () => ({
      request: 'f'.repeat(64),
      peer: holder.agent,
      output: 1,
    }))
    await expect(runner.run(request())).resolves.toEqual({
      task: 'f'.repeat(64),
      peer: holder.agent,
      output: 1,
    })
    expect(calls.direct).toBe(1)
  })

  it.each([
    ['fan-out', { fanOut: 3 }],
    ['route: "round"', { route: 'round' as const }],
  ])('takes the round for %s', async (_name, extra) => {
    const { runner, calls } = inference(async () => ({ request: 'x', peer: 'y', output: null }))
    await expect(runner.run(request(extra))).rejects.toBe(ROUND)
    expect(calls.direct).toBe(0)
  })

  it('takes the round when no model is named', async () => {
    const { runner, calls } = inference(async () => ({ request: 'x', peer: 'y', output: null }))
    await expect(runner.run(request({ model: undefined }))).rejects.toBe(ROUND)
    expect(calls.direct).toBe(0)
  })

  it("refuses what the table refuses, as the caller's mistake in its ripple options", async () => {
    const { runner, calls } = inference(async () => ({ request: 'x', peer: 'y', output: null }))
    const image = { messages: [{ role: 'user', content: 'see', images: ['data:image/png;base64,AA=='] }] }
    await expect(runner.run(request({ input: image, fanOut: 2 }))).rejects.toMatchObject({
      failureKind: 'invalid',
      code: 'unsupported_combination',
      field: 'ripple',
    })
    expect(calls.direct).toBe(0)
  })

  it('takes the round when no runner can be reached straight (no mesh streams)', async () => {
    const { runner, calls } = inference(async () => {
      throw new NoDirectRouteError('tiny')
    })
    await expect(runner.run(request())).rejects.toBe(ROUND)
    expect(calls.direct).toBe(1)
  })

  it.each([
    [
      'every runner lacked room',
      ['unavailable/no_room', 'unavailable/unreachable'],
      'unavailable/no_room',
      'no_room',
    ],
    ['every runner was busy', ['busy', 'unavailable/unreachable'], 'busy', 'peers_busy'],
    ['runners refused for other reasons', ['unavailable/no_room', 'failed'], 'unavailable', 'no_capacity'],
    [
      'runners refused by policy or were busy',
      ['busy/limited', 'busy'],
      'busy/limited',
      'rate_limit_exceeded',
    ],
    ['a runner refused by policy, another failed', ['busy/limited', 'failed'], 'unavailable', 'no_capacity'],
  ] as const)('when %s, fails as such', async (_name, whys, failureKind, code) => {
    const reasons = whys.map((why, i) => ({ agent: `uhCAk${i}`, why, message: `${why} there` }))
    const { runner } = inference(async () => {
      throw new NoRunnerError('tiny', reasons)
    })
    await expect(runner.run(request())).rejects.toMatchObject({ failureKind, code })
  })

  it('runs a model of its own directory that no capability names yet here, and 404s one it lacks', async () => {
    const self = {
      ...holder,
      agent: 'uhCAkSELF',
      self: true,
      capability: { ...holder.capability, inference: { models: [] } },
    } as unknown as PeerEntry
    const fresh = { ...holder.capability!.inference.models[0]!, name: 'fresh', loaded: false }
    let routed: readonly { self: boolean; capability: PeerEntry['capability'] }[] = []
    const runner = new RequestRunner({
      scheduler: {} as never,
      workers: { get: () => undefined },
      peers: async () => [self, holder],
      direct: {
        run: async (call) => {
          routed = call.peers ?? []
          return { request: 'r', peer: self.agent, output: 1, recorded: Promise.resolve(null) }
        },
      },
      ownModel: async (name) => (name === 'fresh' ? fresh : null),
    })
    await expect(runner.run(request({ model: 'fresh' }))).resolves.toMatchObject({ peer: self.agent })
    const mine = routed.find((p) => p.self)
    expect(mine?.capability?.inference.models.map((m) => m.name)).toEqual(['fresh'])
    await expect(runner.run(request({ model: 'absent' }))).rejects.toMatchObject({
      failureKind: 'not_found',
      message: expect.stringContaining('the model "absent" is on no peer of the mesh (models: tiny)'),
    })
  })
})
