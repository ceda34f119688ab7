/**
 * GET /api/usage?mesh=1 (issue 47, point 1): this peer's rows and, asked for, what each online peer
 * signed about this member, through the typed client; a backend that reaches no peer directly says so.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import { ApiClient } from '../../../host/api/client/api-client.ts'
import { meshTable } from '../../../host/cli/commands/usage-command.ts'
import type { MeshUsageView } from '../../../host/usage/mesh-usage-port.ts'
import { baseInit, statusView } from './fixtures.ts'

const totals = (requests: number) => ({
  requests,
  failed: 0,
  tokens_in: requests * 10,
  tokens_out: requests,
  reasoning_tokens: 0,
})

const VIEW: MeshUsageView = {
  peers: [
    {
      agent: 'uhCAkRunner',
      name: 'gpu-box',
      self: false,
      release: '0.2.0',
      message: null,
      as_runner: totals(3),
      as_requester: totals(2),
    },
    {
      agent: 'uhCAkOld',
      name: null,
      self: false,
      release: '0.1.0',
      message: 'peer uhCAkOld does not serve usage (Ripple 0.1.0); this peer speaks usage 1',
      as_runner: totals(0),
      as_requester: totals(0),
    },
  ],
  sum: { as_runner: totals(3), as_requester: totals(2) },
}

let server: ApiServer | null = null
afterEach(async () => {
  await server?.stop()
})

async function serve(meshUsage: { ask: (since: number) => Promise<MeshUsageView> } | null) {
  server = new ApiServer(
    baseInit({
      node: { status: statusView },
      components: { usage: { rows: () => [], note: () => {} }, meshUsage },
    }),
  )
  await server.start()
  return new ApiClient({ baseUrl: server.url, token: 'the-token' })
}

describe('GET /api/usage?mesh=1', () => {
  it('answers each peer’s view and the sum, asked from `since`', async () => {
    const asked: number[] = []
    const client = await serve({
      ask: async (since) => {
        asked.push(since)
        return VIEW
      },
    })
    expect(await client.meshUsage(5000)).toMatchObject({ rows: [], mesh: VIEW })
    expect((await client.usage()).mesh).toBeUndefined()
    expect(asked).toEqual([5000])
    const table = meshTable(VIEW)
    expect(table).toMatch(/gpu-box\s+3\s+33\s+2\s+22\s+Ripple 0\.2\.0/)
    expect(table).toMatch(/does not serve usage \(Ripple 0\.1\.0\)/)
    expect(table).toMatch(/sum\s+3\s+33\s+2\s+22/)
  })

  it('says so where no peer is reached directly', async () => {
    const client = await serve(null)
    await expect(client.meshUsage()).rejects.toMatchObject({ status: 503 })
  })
})
