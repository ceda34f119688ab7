import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  heldByBoth,
  type PlacedOp,
  planOps,
} from '../../../../host/conductor/embedded/replication/neighbourhood-summary.ts'
import {
  HELD_SYNC_PROTOCOL,
  NeighbourhoodSync,
} from '../../../../host/conductor/embedded/replication/neighbourhood-sync.ts'
import { OpIngest } from '../../../../host/conductor/embedded/replication/op-ingest.ts'
import type { OpBatch } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { agentOfPeerB64, peerIdOfAgent } from '../../../../host/identity/peer-agent.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import type { RequestResponse } from '../../../../host/net/request-response.ts'
import { notesCells, type TestCell } from '../fixtures/test-cell.ts'

const agent = notesCells()
const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
/** Members that run nothing here: they move where each op's holders are. */
const others = Array.from({ length: 10 }, (_, i) =>
  encodeHashB64(holoHashFrom32(sha256(`far ${i}`), 'agent')),
)

/** Every op in the store, each held at its own hash. */
function heldOps(tc: TestCell): PlacedOp[] {
  const { store } = tc
  const dna = tc.cell.dnaHash
  return store.chainHeads(dna).flatMap((head) =>
    store.chainRange(dna, head.author, 0, 10_000).map((action) => ({
      hash: action.hash,
      bases: [action.hash],
      author: encodeHashB64(action.author),
    })),
  )
}

interface Side {
  tc: TestCell
  sync: NeighbourhoodSync
  delivered: OpBatch[]
}

/** Peers whose requests go straight to each other's handlers; each counts the bytes it was asked. */
function mesh(
  cells: TestCell[],
  holders: number,
  traffic: { requests: number; bytes: number },
  /** The members each side counts (all by default): a side that counts some gone places ops otherwise. */
  view: (self: string, all: string[]) => string[] = (_self, all) => all,
): Side[] {
  const sides = new Map<string, Side>()
  const all = [...cells.map((tc) => encodeHashB64(tc.cell.agentPubKey)), ...others]
  for (const tc of cells) {
    const self = encodeHashB64(tc.cell.agentPubKey)
    const members = () => view(self, all)
    const ingest = new OpIngest({
      store: tc.store,
      cells: [tc.cell],
      self: tc.cell.agentPubKey,
      logger: silentLogger(),
    })
    const delivered: OpBatch[] = []
    const rpc: Pick<RequestResponse, 'request'> = {
      request: async (peer, protocol, bytes) => {
        expect(protocol).toBe(HELD_SYNC_PROTOCOL)
        traffic.requests++
        const answer = await sides.get(agentOfPeerB64(peer)!)!.sync.handler(bytes, peerIdOfAgent(self))
        traffic.bytes += bytes.length + answer.length
        return answer
      },
    }
    const sync = new NeighbourhoodSync({
      rpc,
      store: tc.store,
      dnaHashes: [tc.cell.dnaHash],
      self,
      ops: () => heldOps(tc),
      members,
      holders,
      barred: () => false,
      deliver: (batch) => {
        delivered.push(batch)
        return ingest.receive(batch, null)
      },
      signal: new AbortController().signal,
    })
    sides.set(self, { tc, sync, delivered })
  }
  return [...sides.values()]
}

const peerOf = (side: Side) => peerIdOfAgent(encodeHashB64(side.tc.cell.agentPubKey))

describe('anti-entropy of held ops by neighbourhood summaries', () => {
  it('fetches what both should hold and the other lacks; an idle pair then exchanges one root a DNA', async () => {
    const [alice, bob] = [await agent(), await agent()]
    for (let i = 0; i < 20; i++)
      await alice.cell.call((hdk) => hdk.create_entry('Note', { text: `note ${i}` }))
    const traffic = { requests: 0, bytes: 0 }
    // Every member holds every op: bob lacks all of alice's chain.
    const [a, b] = mesh([alice, bob], 12, traffic)
    expect(await b!.sync.syncWith(peerOf(a!))).toBe(heldOps(alice).length)
    expect(bob.store.chainHead(alice.cell.dnaHash, alice.cell.agentPubKey)?.seq).toBe(
      alice.cell.chain.head.seq,
    )
    const bobsOwn = heldOps(bob).length - heldOps(alice).length
    expect(await a!.sync.syncWith(peerOf(b!))).toBe(bobsOwn)

    const idle = { requests: 0, bytes: 0 }
    Object.assign(traffic, idle)
    expect(await b!.sync.syncWith(peerOf(a!))).toBe(0)
    expect(await a!.sync.syncWith(peerOf(b!))).toBe(0)
    // One roots request each way, answered with nothing: no hashes, no ops.
    expect(traffic.requests).toBe(2)
    expect(traffic.bytes).toBeLessThan(300)
  })

  it('fetches only the ops both should hold, not the rest of what the other holds', async () => {
    const [alice, bob] = [await agent(), await agent()]
    for (let i = 0; i < 40; i++)
      await alice.cell.call((hdk) => hdk.create_entry('Note', { text: `note ${i}` }))
    const [a, b] = mesh([alice, bob], 4, { requests: 0, bytes: 0 })
    const members = [encodeHashB64(alice.cell.agentPubKey), encodeHashB64(bob.cell.agentPubKey), ...others]
    const shared = heldByBoth(planOps(heldOps(alice), members, 4), members[0]!, members[1]!)
    expect(shared.length).toBeLessThan(heldOps(alice).length)

    await b!.sync.syncWith(peerOf(a!))
    const fetched = b!.delivered.flatMap((batch) => batch.ops).length
    expect(fetched).toBe(shared.length)
  })

  it('lists a pair whose views of the members differ once, not at every exchange, and again once either writes', async () => {
    const [alice, bob] = [await agent(), await agent()]
    for (let i = 0; i < 40; i++)
      await alice.cell.call((hdk) => hdk.create_entry('Note', { text: `note ${i}` }))
    // Both hold every op first (a view in which every member holds all).
    const [fa, fb] = mesh([alice, bob], 12, { requests: 0, bytes: 0 })
    await fb!.sync.syncWith(peerOf(fa!))
    await fa!.sync.syncWith(peerOf(fb!))
    // Then bob counts four members gone that alice does not: their summaries differ, and each holds
    // all the other lists, so nothing is missing either way (32 loaded daemons listed such pairs for minutes).
    const gone = new Set(others.slice(0, 4))
    const bobs = encodeHashB64(bob.cell.agentPubKey)
    const traffic = { requests: 0, bytes: 0 }
    const [a, b] = mesh([alice, bob], 6, traffic, (self, all) =>
      self === bobs ? all.filter((m) => !gone.has(m)) : all,
    )
    expect(await b!.sync.syncWith(peerOf(a!))).toBe(0)
    expect(traffic.requests).toBe(2) // roots, then the hashes of the differing sectors
    traffic.requests = 0
    expect(await b!.sync.syncWith(peerOf(a!))).toBe(0)
    expect(traffic.requests).toBe(1) // roots only: the same two summaries were listed already
    // Alice writes until one of her new ops is one both should hold in her view: listed again, fetched.
    const alices = encodeHashB64(alice.cell.agentPubKey)
    const shared = () =>
      heldByBoth(planOps(heldOps(alice), [alices, bobs, ...others], 6), alices, bobs).length
    const before = shared()
    for (let i = 0; i < 100 && shared() === before; i++)
      await alice.cell.call((hdk) => hdk.create_entry('Note', { text: `later ${i}` }))
    expect(shared()).toBe(before + 1)
    traffic.requests = 0
    expect(await b!.sync.syncWith(peerOf(a!))).toBe(1)
    expect(traffic.requests).toBe(3) // roots, hashes, the op
  })
})
