import type { PeerId } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { HolderLists } from '../../../../host/conductor/embedded/replication/holder-lists.ts'
import { type WireOp, wireOpOf } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import {
  encodeRecordListAnswer,
  type RecordList,
} from '../../../../host/conductor/embedded/replication/record-get-wire.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { agentOfPeerB64 } from '../../../../host/identity/peer-agent.ts'
import { notesCells, type TestCell } from '../fixtures/test-cell.ts'

const agent = notesCells()
const utf8 = (text: string) => new TextEncoder().encode(text)
const b64 = (tc: TestCell) => encodeHashB64(tc.cell.agentPubKey)

/** A link by `tc` on `base`, as its store would serve it. */
async function linkOn(tc: TestCell, base: Uint8Array, tag: string): Promise<WireOp> {
  const hash = await tc.cell.call((hdk) => hdk.create_link(base, base, 'Tagged', utf8(tag)))
  const action = tc.store.getAction(hash)!
  return wireOpOf(action, null)
}

/**
 * Erin lists the links on `base` from holders answering `answers` (by agent; none: it fails), over the
 * members given; what she warrants and whom she asks, in order (the first holder is the one connected).
 */
function erinLists(erin: TestCell, members: TestCell[], first: TestCell, answers: Map<string, WireOp[]>) {
  const warrants: string[] = []
  const asked: string[] = []
  const rpc = {
    request: async (peer: PeerId) => {
      const holder = agentOfPeerB64(peer)!
      asked.push(holder)
      const ops = answers.get(holder)
      if (ops === undefined) throw new Error('unreachable')
      return encodeRecordListAnswer({ ops, more: false })
    },
  }
  const lists = new HolderLists({
    rpc: rpc as never,
    conductor: { agentPubKey: b64(erin), store: erin.store, cell: () => erin.cell },
    replication: {
      warrantAuthor: (_dna, agent) => void warrants.push(agent),
      isWarranted: () => false,
      isRevoked: () => false,
    },
    members: () => [erin, ...members].map(b64),
    holders: 8,
    connected: (agentB64) => agentB64 === b64(first),
  })
  return { lists, warrants, asked }
}

const linksOn = (base: Uint8Array): RecordList => ({
  kind: 'links',
  base,
  linkType: 1,
  tagPrefix: new Uint8Array(),
  deleted: false,
})

describe('a links list got from holders', () => {
  it('leaves out a link by an agent not counted a member here, and blames no holder for it', async () => {
    const [alice, carol, holder, erin] = [await agent(), await agent(), await agent(), await agent()]
    const base = alice.cell.chain.head.hash
    const known = await linkOn(alice, base, 'by a member')
    // Carol joined where the holder is and her genesis has not reached erin yet: not proof of a lie.
    const unseen = await linkOn(carol, base, 'by a member erin has not seen join')
    const answers = new Map([[b64(holder), [known, unseen]]])
    const { lists, warrants } = erinLists(erin, [alice, holder], holder, answers)
    const got = await lists.list('resource_mesh', linksOn(base))
    expect(warrants).toEqual([])
    expect(got.from).toBe(b64(holder))
    expect(got.links.map((l) => encodeHashB64(l.author))).toEqual([b64(alice)])
  })

  it('asks one more holder when the first answers none, and takes the one that answers links', async () => {
    const [alice, silent, honest, erin] = [await agent(), await agent(), await agent(), await agent()]
    const base = alice.cell.chain.head.hash
    const link = await linkOn(alice, base, 'withheld by one holder')
    const answers = new Map([
      [b64(silent), []],
      [b64(honest), [link]],
      [b64(alice), [link]],
    ])
    const { lists, asked } = erinLists(erin, [alice, silent, honest], silent, answers)
    const got = await lists.list('resource_mesh', linksOn(base))
    expect(asked[0]).toBe(b64(silent))
    expect(asked).toHaveLength(2)
    expect(got.from).toBe(asked[1])
    expect(got.links).toHaveLength(1)
  })

  it('believes none once two holders answer none, asking no third', async () => {
    const [alice, one, two, erin] = [await agent(), await agent(), await agent(), await agent()]
    const base = alice.cell.chain.head.hash
    const answers = new Map([
      [b64(one), []],
      [b64(two), []],
      [b64(alice), []],
    ])
    const { lists, asked } = erinLists(erin, [alice, one, two], one, answers)
    const got = await lists.list('resource_mesh', linksOn(base))
    expect(asked).toHaveLength(2)
    expect(got).toEqual({ records: [], links: [], from: b64(one) })
  })

  it('takes one holder’s none for what targets a record (asked of every record got)', async () => {
    const [alice, one, two, erin] = [await agent(), await agent(), await agent(), await agent()]
    const answers = new Map([
      [b64(one), []],
      [b64(two), []],
      [b64(alice), []],
    ])
    const { lists, asked } = erinLists(erin, [alice, one, two], one, answers)
    const got = await lists.list('resource_mesh', { kind: 'targets', hash: alice.cell.chain.head.hash })
    expect(asked).toEqual([b64(one)])
    expect(got.from).toBe(b64(one))
  })
})
