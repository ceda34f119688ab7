/**
 * The simulation's record (bench/mesh-sim/sim-record.ts, issue 57): a slot's ops leave up to a quarter
 * slot after they are signed (PUSH_SPREAD), and a holder takes only what its own view of the members
 * places on it. Members that join in between (the mesh still starting, a slow clock stretching the
 * spread) must not leave the ops short of R: they are placed over the members when pushed. Peers are
 * SimRecords over an in-memory request table, on fake timers (the slot's grid is read from Date).
 */
import type { PeerId } from '@libp2p/interface'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HeldOp } from '../../../bench/mesh-sim/held-ops.ts'
import { shortOfHolders } from '../../../bench/mesh-sim/record-short.ts'
import { agentKey } from '../../../bench/mesh-sim/sim-identity.ts'
import { MeshMembers, PUSH_SPREAD, SimRecord } from '../../../bench/mesh-sim/sim-record.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { peerIdOfAgent } from '../../../host/identity/peer-agent.ts'
import type { RequestHandler } from '../../../host/net/request-response.ts'

const R = 8
const SLOT_MS = 60_000

/** Every peer's handlers by peer id and protocol: a request is the handler's call. */
const handlers = new Map<string, RequestHandler>()
const records: SimRecord[] = []

/** A peer of `members`, started: its record and its agent key. */
async function peer(members: MeshMembers): Promise<{ record: SimRecord; agent: string }> {
  const { key } = agentKey()
  const agent = encodeHashB64(key.agentPubKey)
  const self = peerIdOfAgent(agent)
  const record = new SimRecord({
    key,
    members,
    speedup: 1,
    slotSimMs: SLOT_MS,
    holders: R,
    timeoutMs: 1_000,
    connected: () => true,
    know: async () => {},
    rpc: {
      handle: async (protocol, handler) => {
        handlers.set(`${self} ${protocol}`, handler)
      },
      request: async (to: PeerId, protocol, bytes) => {
        const handler = handlers.get(`${to} ${protocol}`)
        if (handler === undefined) throw new Error(`${to} does not serve ${protocol}`)
        return handler(bytes, self)
      },
    },
  })
  records.push(record)
  await record.start()
  return { record, agent }
}

const told = (members: MeshMembers, peers: { agent: string }[]) =>
  members.set(peers.map(({ agent }) => ({ agent, addrs: [] })))

describe('the simulated record', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    for (const record of records.splice(0)) record.stop()
    handlers.clear()
    vi.useRealTimers()
  })

  it('places a slot’s ops over the members when it pushes them, not when it signed them', async () => {
    const members = new MeshMembers()
    const first = await Promise.all(Array.from({ length: 12 }, () => peer(members)))
    told(members, first)
    // The slot's boundary: each of the twelve signs its cover pair, placed over the twelve.
    await vi.advanceTimersByTimeAsync(SLOT_MS - (Date.now() % SLOT_MS))
    // Three times as many join before any of those pushes has left.
    const everyone = [...first, ...(await Promise.all(Array.from({ length: 36 }, () => peer(members))))]
    told(members, everyone)
    await vi.advanceTimersByTimeAsync(PUSH_SPREAD * SLOT_MS + 1_000)
    const held = new Map<string, HeldOp[]>(everyone.map(({ record, agent }) => [agent, record.held.list()]))
    const count = shortOfHolders(held, Number.POSITIVE_INFINITY, R)
    expect(count.ops).toBe(2 * first.length)
    expect(count.short).toBe(0)
  })
})
