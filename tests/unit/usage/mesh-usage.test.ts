/**
 * A member's usage across the mesh (issue 47, point 1): each peer answers what it signed about the
 * member asking, never about a third party and without its API keys; a peer of 0.1.0 is named with
 * its release, not asked; one that cannot be reached is named with why.
 */
import { describe, expect, it } from 'vitest'
import type { AgentPort } from '../../../host/interface/agent-port.ts'
import type { KnownPeer } from '../../../host/interface/live-peers.ts'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import { ASKS_PER_MINUTE } from '../../../host/usage/ask-rate.ts'
import { MeshUsage, rowsAbout } from '../../../host/usage/mesh-usage.ts'
import { ANSWER_ROWS } from '../../../host/usage/mesh-usage-wire.ts'
import { UsageLedger } from '../../../host/usage/usage-ledger.ts'
import type { UsageRow } from '../../../host/usage/usage-totals.ts'

const [ME, RUNNER, OTHER, OLD, GONE] = ['uhCAkMe', 'uhCAkRunner', 'uhCAkOther', 'uhCAkOld', 'uhCAkGone']

const row = (direction: UsageRow['direction'], member: string, requests: number): UsageRow => ({
  direction,
  member,
  key: 'k-private',
  model: 'm',
  hour: '2026-11-25T04:00:00.000Z',
  requests,
  failed: 0,
  tokens_in: requests * 10,
  tokens_out: requests,
  reasoning_tokens: 0,
  busy_s: requests,
})

/** Each agent's ledger rows: RUNNER ran 3 of ME's requests and 5 of OTHER's; ME ran 2 of RUNNER's. */
const LEDGERS: Record<string, UsageRow[]> = {
  [RUNNER]: [row('served', ME, 3), row('served', OTHER, 5), row('used', ME, 2)],
  [ME]: [row('used', RUNNER, 3), row('served', RUNNER, 2)],
}

/** An in-memory mesh of agent ports: requests reach the handler of the agent asked, as the asker. */
function mesh() {
  const handlers = new Map<string, (request: Uint8Array, agent: string) => Promise<Uint8Array>>()
  const port = (me: string) =>
    ({
      answer: async (
        protocol: string,
        handler: (request: Uint8Array, agent: string) => Promise<Uint8Array>,
      ) => {
        handlers.set(`${me} ${protocol}`, handler)
      },
      unhandle: async (protocol: string) => {
        handlers.delete(`${me} ${protocol}`)
      },
      request: async (agent: string, protocol: string, request: Uint8Array) => {
        const handler = handlers.get(`${agent} ${protocol}`)
        if (handler === undefined) throw new Error(`peer ${agent} cannot be reached`)
        return handler(request, me)
      },
    }) as unknown as AgentPort<unknown>
  return port
}

const NOW = Date.parse('2026-11-26T00:00:00.000Z')
const ledgerOf = (rows: readonly UsageRow[]) => {
  const ledger = new UsageLedger(() => NOW)
  ledger.replace(rows)
  return ledger
}

const peer = (agent: string, over: Partial<KnownPeer> = {}) =>
  ({ agent, self: agent === ME, status: 'online', name: null, release: OWN_STATEMENT, ...over }) as KnownPeer

describe('usage across the mesh', () => {
  it('rowsAbout: only the asker’s rows, without the API keys', () => {
    expect(rowsAbout(LEDGERS[RUNNER]!, ME)).toEqual([
      { ...row('served', ME, 3), key: null },
      { ...row('used', ME, 2), key: null },
    ])
  })

  it('asks each online peer, names the old and the unreachable, and sums the answers', async () => {
    const port = mesh()
    const peers = [
      peer(ME),
      peer(RUNNER, { name: 'gpu-box' }),
      peer(OLD, { release: UNSTATED }),
      peer(GONE),
      peer(OTHER, { status: 'offline' }),
    ]
    const service = (agent: string) =>
      new MeshUsage({
        self: agent,
        agents: port(agent),
        ledger: ledgerOf(LEDGERS[agent] ?? []),
        peers: async () => peers,
      })
    await service(RUNNER).start()
    const view = await service(ME).ask(0)
    const totals = (requests: number) => ({
      requests,
      failed: 0,
      tokens_in: requests * 10,
      tokens_out: requests,
      reasoning_tokens: 0,
    })
    const none = totals(0)
    expect(view.peers).toEqual([
      // This peer's own rows about itself: none (it ran nothing of its own here).
      {
        agent: ME,
        name: null,
        self: true,
        release: '0.2.0',
        message: null,
        as_runner: none,
        as_requester: none,
      },
      // RUNNER signed 3 of ME's requests as runner and 2 as requester; OTHER's 5 are not told.
      {
        agent: RUNNER,
        name: 'gpu-box',
        self: false,
        release: '0.2.0',
        message: null,
        as_runner: totals(3),
        as_requester: totals(2),
      },
      {
        agent: OLD,
        name: null,
        self: false,
        release: '0.1.0',
        message: `peer ${OLD} does not serve usage (Ripple 0.1.0); this peer speaks usage 1`,
        as_runner: none,
        as_requester: none,
      },
      expect.objectContaining({ agent: GONE, message: `peer ${GONE} cannot be reached`, as_runner: none }),
    ])
    expect(view.sum).toEqual({ as_runner: totals(3), as_requester: totals(2) })
  })

  const pair = (runnerRows: readonly UsageRow[]) => {
    const port = mesh()
    const peers = [peer(ME), peer(RUNNER)]
    const service = (agent: string, rows: readonly UsageRow[]) =>
      new MeshUsage({
        self: agent,
        agents: port(agent),
        ledger: ledgerOf(rows),
        peers: async () => peers,
        now: () => NOW,
      })
    return { runner: service(RUNNER, runnerRows), me: service(ME, []) }
  }

  it('an answer is a page of whole hours; the asker follows the pages to the whole sum', async () => {
    // 30 days of hours, 3 models, both directions: past one page.
    const rows = Array.from({ length: 30 * 24 }, (_, h) =>
      ['a', 'b', 'c'].flatMap((model) =>
        (['served', 'used'] as const).map((direction) => ({
          ...row(direction, ME, 1),
          model,
          hour: new Date(NOW - (h + 1) * 3_600_000).toISOString(),
        })),
      ),
    ).flat()
    expect(rows.length).toBeGreaterThan(ANSWER_ROWS)
    const { runner, me } = pair(rows)
    await runner.start()
    const view = await me.ask(0)
    expect(view.sum.as_runner.requests).toBe(rows.length / 2)
    expect(view.sum.as_requester.requests).toBe(rows.length / 2)
  })

  it('a peer’s asks are rate limited: past its share a minute, the answer is a refusal saying when', async () => {
    const { runner, me } = pair([row('served', ME, 3)])
    await runner.start()
    for (let i = 0; i < ASKS_PER_MINUTE; i++)
      expect((await me.ask(0)).peers.find((p) => p.agent === RUNNER)?.message).toBeNull()
    const refused = (await me.ask(0)).peers.find((p) => p.agent === RUNNER)
    expect(refused?.message).toMatch(/too many usage asks; ask again in \d+ s/)
  })
})
