/**
 * `ripple peers` on a sharded mesh (issue 56): every member on record is listed and counted, and the
 * page a person asks for has its members' capabilities read then, one read each: a page costs its own
 * size, not the mesh's.
 */
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { registerPeersRoute } from '../../../host/api/routes/peers-route.ts'
import type { KnownPeer } from '../../../host/interface/live-peers.ts'
import { filledPage } from '../../../host/registry/filled-page.ts'
import { CAPABILITY } from '../api/fixtures.ts'

const peer = (agent: string, known: boolean): KnownPeer => ({
  agent,
  self: agent === 'self',
  status: 'offline',
  name: known ? agent : null,
  capability: known ? { ...CAPABILITY, name: agent } : null,
  load: null,
  last_heartbeat_ms_ago: null,
  warrant: null,
  link: null,
  revoked: false,
  release: null,
  ...(known ? {} : { member: true as const }),
})

describe('a page of a sharded mesh', () => {
  it('reads the capabilities of the page it shows, counting every member', async () => {
    const mesh = [peer('self', true), ...Array.from({ length: 500 }, (_, i) => peer(`m${i}`, i % 2 === 0))]
    const reads: string[] = []
    const capabilityOf = async (agent: string) => {
      reads.push(agent)
      return agent === 'm3' ? null : { entry: { ...CAPABILITY, name: `read ${agent}` } }
    }
    const app = Fastify()
    registerPeersRoute(
      app,
      async () => ({ peers: mesh, warrants: [] }),
      (page) => filledPage(page, capabilityOf),
    )
    const reply = await app.inject({ method: 'GET', url: '/api/peers?page=1&limit=5' })
    const body = reply.json() as { peers: KnownPeer[]; members: number; total: number }
    expect(body).toMatchObject({ members: 501, total: 501 })
    // self, m0 and m2 known; m1 read; m3 found nowhere, listed as a member still.
    expect(reads).toEqual(['m1', 'm3'])
    expect(body.peers.map((p) => p.name)).toEqual(['self', 'm0', 'read m1', 'm2', null])
    expect(body.peers[2]).not.toHaveProperty('member')
    expect(body.peers[4]).toMatchObject({ capability: null, member: true })
    await app.close()
  })

  it('a read that fails leaves the member as listed', async () => {
    const page = [peer('m1', false)]
    expect(await filledPage(page, () => Promise.reject(new Error('no holder answered')))).toEqual(page)
  })
})
