import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AntiEntropy, headsDigest } from '../../../../host/conductor/embedded/replication/anti-entropy.ts'
import type { OpIngest } from '../../../../host/conductor/embedded/replication/op-ingest.ts'
import { decodeMsgpack, encodeCanonical } from '../../../../host/identity/canonical.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import type { RequestResponse } from '../../../../host/net/request-response.ts'
import { notesCells, type TestCell } from '../fixtures/test-cell.ts'
import { craftCreate } from './fixtures/forge.ts'
import { ingestOn, opsOf } from './fixtures/ingest.ts'

const agent = notesCells()

/** Anti-entropy that only answers (it asks no one). */
function servingSide(tc: TestCell, ingest: OpIngest): AntiEntropy {
  return new AntiEntropy({
    rpc: {} as RequestResponse,
    store: tc.store,
    ingest,
    dnaHashes: [tc.cell.dnaHash],
    self: tc.cell.agentPubKey,
    deliver: () => null,
    signal: new AbortController().signal,
  })
}

describe('anti-entropy, serving side', () => {
  it('lists and serves every chain it holds from the seq asked for, but none of a warranted author', async () => {
    const [alice, mallory, bob] = [await agent(), await agent(), await agent()]
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'hello' }))
    const ingest = ingestOn(bob)
    const dnaHash = bob.cell.dnaHash
    ingest.receive({ dnaHash, ops: opsOf(alice) }, alice.cell.agentPubKey)
    ingest.receive({ dnaHash, ops: opsOf(mallory) }, mallory.cell.agentPubKey)
    ingest.receive(
      { dnaHash, ops: [(await craftCreate(mallory, 'Note', { text: '' })).op] },
      mallory.cell.agentPubKey,
    )
    expect(ingest.isWarranted(mallory.cell.agentPubKey)).toBe(true)

    const antiEntropy = servingSide(bob, ingest)
    const ask = async (request: unknown) =>
      decodeMsgpack(await antiEntropy.handler(encodeCanonical(request), undefined as never)) as Record<
        string,
        unknown
      >

    const { dnas } = (await ask({ t: 'heads', dnas: [dnaHash] })) as {
      dnas: [Uint8Array, [Uint8Array, number][]][]
    }
    const authors = dnas[0]![1].map(([author, seq]) => [encodeHashB64(author), seq])
    expect(authors).toEqual(
      expect.arrayContaining([
        [encodeHashB64(alice.cell.agentPubKey), 4],
        [encodeHashB64(bob.cell.agentPubKey), 3],
      ]),
    )
    expect(authors).toHaveLength(2)
    // An asker whose heads are the same (its digest equal) gets none back; one behind gets them all.
    const same = headsDigest(dnas[0]![1] as never)
    const quiet = (await ask({ t: 'heads', dnas: [dnaHash], digests: [[dnaHash, same]] })) as {
      dnas: unknown[]
    }
    expect(quiet.dnas).toEqual([])
    const behind = headsDigest(dnas[0]![1].slice(1) as never)
    const full = (await ask({ t: 'heads', dnas: [dnaHash], digests: [[dnaHash, behind]] })) as typeof quiet
    expect(full.dnas).toHaveLength(1)

    const answer = (await ask({
      t: 'ops',
      dna: dnaHash,
      wants: [
        [alice.cell.agentPubKey, 2],
        [mallory.cell.agentPubKey, 0],
      ],
    })) as { chains: [Uint8Array, unknown[]][]; more: boolean }
    expect(answer.more).toBe(false)
    expect(answer.chains.map(([author, ops]) => [encodeHashB64(author), ops.length])).toEqual([
      [encodeHashB64(alice.cell.agentPubKey), 3],
    ])
    await expect(antiEntropy.handler(new Uint8Array([0xc1]), undefined as never)).rejects.toThrow('malformed')
  })
  it('reads the heads again only after a write, and answers the new head then', async () => {
    const bob = await agent()
    const ingest = ingestOn(bob)
    const dnaHash = bob.cell.dnaHash
    const antiEntropy = servingSide(bob, ingest)
    let reads = 0
    const chainHeads = bob.store.chainHeads.bind(bob.store)
    bob.store.chainHeads = (dna) => {
      reads++
      return chainHeads(dna)
    }
    const bobsSeq = async () => {
      const answer = decodeMsgpack(
        await antiEntropy.handler(encodeCanonical({ t: 'heads', dnas: [dnaHash] }), undefined as never),
      ) as { dnas: [Uint8Array, [Uint8Array, number][]][] }
      return answer.dnas[0]![1].find(
        ([author]) => encodeHashB64(author) === encodeHashB64(bob.cell.agentPubKey),
      )![1]
    }
    const before = await bobsSeq()
    expect([await bobsSeq(), await bobsSeq(), reads]).toEqual([before, before, 1])
    await bob.cell.call((hdk) => hdk.create_entry('Note', { text: 'one more' }))
    expect([await bobsSeq(), reads]).toEqual([before + 1, 2])
  })
  it('lists and serves to a peer, when sharded, the chains both keep and only the genesis of the others', async () => {
    const [alice, bob] = [await agent(), await agent()]
    await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'hello' }))
    await bob.cell.call((hdk) => hdk.create_entry('Note', { text: 'mine' }))
    const ingest = ingestOn(bob)
    const dnaHash = bob.cell.dnaHash
    ingest.receive({ dnaHash, ops: opsOf(alice) }, alice.cell.agentPubKey)
    const [aliceKey, bobKey] = [alice, bob].map((tc) => encodeHashB64(tc.cell.agentPubKey))
    const antiEntropy = new AntiEntropy({
      rpc: {} as RequestResponse,
      store: bob.store,
      ingest,
      dnaHashes: [dnaHash],
      self: bob.cell.agentPubKey,
      deliver: () => null,
      signal: new AbortController().signal,
      // Only alice's chain is one both keep.
      chainsWith: () => (author) => encodeHashB64(author) === aliceKey,
    })
    const ask = async (request: unknown) =>
      decodeMsgpack(await antiEntropy.handler(encodeCanonical(request), undefined as never)) as {
        dnas: [Uint8Array, [Uint8Array, number, Uint8Array][]][]
        chains: [Uint8Array, unknown[]][]
      }
    const { dnas } = await ask({ t: 'heads', dnas: [dnaHash] })
    const listed = new Map(dnas[0]![1].map(([author, seq]) => [encodeHashB64(author), seq]))
    expect(listed).toEqual(
      new Map([
        [aliceKey, alice.cell.chain.head.seq],
        [bobKey, 2],
      ]),
    )
    expect(bob.cell.chain.head.seq).toBeGreaterThan(2)
    const digest = headsDigest(dnas[0]![1])
    expect((await ask({ t: 'heads', dnas: [dnaHash], digests: [[dnaHash, digest]] })).dnas).toEqual([])
    const { chains } = await ask({
      t: 'ops',
      dna: dnaHash,
      wants: [
        [alice.cell.agentPubKey, 0],
        [bob.cell.agentPubKey, 0],
      ],
    })
    expect(chains.map(([author, ops]) => [encodeHashB64(author), ops.length])).toEqual([
      [aliceKey, alice.cell.chain.head.seq + 1],
      [bobKey, 3],
    ])
  })
  it('reads the genesis end of a chain it does not share once while the store is unchanged', async () => {
    const [alice, bob] = [await agent(), await agent()]
    await bob.cell.call((hdk) => hdk.create_entry('Note', { text: 'mine' }))
    const ingest = ingestOn(bob)
    const dnaHash = bob.cell.dnaHash
    ingest.receive({ dnaHash, ops: opsOf(alice) }, alice.cell.agentPubKey)
    let reads = 0
    const actionAt = bob.store.actionAt.bind(bob.store)
    bob.store.actionAt = (...args) => {
      reads++
      return actionAt(...args)
    }
    const antiEntropy = new AntiEntropy({
      rpc: {} as RequestResponse,
      store: bob.store,
      ingest,
      dnaHashes: [dnaHash],
      self: bob.cell.agentPubKey,
      deliver: () => null,
      signal: new AbortController().signal,
      // No chain is one both keep: bob's own (past its genesis) is listed to its genesis end.
      chainsWith: () => () => false,
    })
    const heads = async () => {
      const answer = decodeMsgpack(
        await antiEntropy.handler(encodeCanonical({ t: 'heads', dnas: [dnaHash] }), undefined as never),
      ) as { dnas: [Uint8Array, [Uint8Array, number, Uint8Array][]][] }
      return answer.dnas[0]![1].map(([author, seq]) => [encodeHashB64(author), seq])
    }
    const first = await heads()
    expect(first).toContainEqual([encodeHashB64(bob.cell.agentPubKey), 2])
    // One read a chain past its genesis (bob's and alice's), and every exchange read them again before.
    expect(reads).toBe(2)
    expect([await heads(), await heads(), reads]).toEqual([first, first, 2])
    await bob.cell.call((hdk) => hdk.create_entry('Note', { text: 'one more' }))
    expect([await heads(), reads]).toEqual([first, 4])
  })
  it('digests heads to the same bytes as every release did, whatever their order', () => {
    const sha = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
    const heads = [2, 0, 1].map((i): [Uint8Array, number, Uint8Array] => [
      sha(`author ${i}`),
      i * 300,
      sha(`head ${i}`),
    ])
    // Compared with a peer's of any release: pinned.
    const pinned = '202e475e7dd8c5f3116b181e787749bf6eb39a466e623cec0aefcf9d0cabfb92'
    expect(Buffer.from(headsDigest(heads)).toString('hex')).toBe(pinned)
    expect(Buffer.from(headsDigest([...heads].reverse())).toString('hex')).toBe(pinned)
  })
})
