/**
 * Held ops (issue 57): rows kept out of their author's chain order are found by every hash-based read
 * and by none of the chain-walking ones, until the chain reaches them; a store made before the `held`
 * column opens and reads as before.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { type ChainStore, type CommitItem, SeqTakenError } from '../../../host/storage/chain-store.ts'
import { openSqliteChainStore } from '../../../host/storage/sqlite-chain-store.ts'
import { SCHEMA } from '../../../host/storage/sqlite-schema.ts'

const DNA = new Uint8Array(39).fill(1)
const AUTHOR = new Uint8Array(39).fill(2)
const BASE = new Uint8Array(39).fill(3)

function item(seq: number, opts: { link?: boolean; hashByte?: number } = {}): CommitItem {
  const hash = new Uint8Array(39).fill(opts.hashByte ?? 100 + seq)
  const entryHash = new Uint8Array(39).fill(200 + seq)
  const action = {
    hash,
    dnaHash: DNA,
    author: AUTHOR,
    seq,
    type: opts.link ? 'CreateLink' : 'Create',
    timestamp: 1_000 + seq,
    entryHash: opts.link ? null : entryHash,
    targetAction: null,
    bytes: new Uint8Array([seq]),
    signature: new Uint8Array(64),
  }
  if (opts.link) {
    const link = {
      createHash: hash,
      dnaHash: DNA,
      base: BASE,
      target: entryHash,
      zomeIndex: 0,
      linkType: 0,
      tag: new Uint8Array(),
      author: AUTHOR,
      timestamp: action.timestamp,
    }
    return { action, link, keyed: { entryType: 'Link', keys: [`k${seq}`] } }
  }
  return { action, entry: { hash: entryHash, kind: 'App', bytes: new Uint8Array([seq, seq]) } }
}

const chainSeqs = (store: ChainStore) => [...store.chainActions(DNA, AUTHOR)].map((a) => a.seq)

describe('held ops', () => {
  it('are found by hash, not by the chain-walking reads', () => {
    const store = openSqliteChainStore(':memory:')
    const held = item(5)
    const link = item(6, { link: true })
    store.holdOps([held, link])
    expect(store.getAction(held.action.hash)).toEqual({ ...held.action, held: true })
    expect(store.getEntry(held.entry!.hash)?.bytes).toEqual(new Uint8Array([5, 5]))
    expect(store.actionsWritingEntry(DNA, held.entry!.hash).map((a) => a.seq)).toEqual([5])
    expect(store.getLinks({ dnaHash: DNA, base: BASE }).map((l) => l.createHash)).toEqual([link.action.hash])
    expect(store.actionAt(DNA, AUTHOR, 5)?.hash).toEqual(held.action.hash)
    expect([...store.heldActions(DNA)].map((a) => a.seq)).toEqual([5, 6])
    expect(store.chainHead(DNA, AUTHOR)).toBeNull()
    expect(store.chainHeads(DNA)).toEqual([])
    expect(chainSeqs(store)).toEqual([])
    expect(store.chainRange(DNA, AUTHOR, 0, 10)).toEqual([])
    expect([...store.chainDigestBlobs(DNA, AUTHOR, 10)]).toEqual([])
    expect(store.findKeyed(DNA, AUTHOR, 'Link', 'k6')).toBeNull()
    store.close()
  })

  it('become part of the chain when it reaches them, their rows kept', () => {
    const store = openSqliteChainStore(':memory:')
    store.appendToChain(DNA, AUTHOR, null, [item(0), item(1)])
    const link = item(2, { link: true })
    store.holdOps([link, item(3)])
    expect(chainSeqs(store)).toEqual([0, 1])
    store.appendToChain(DNA, AUTHOR, item(1).action.hash, [link])
    expect(chainSeqs(store)).toEqual([0, 1, 2])
    expect(store.chainHead(DNA, AUTHOR)?.seq).toBe(2)
    expect(store.getAction(link.action.hash)?.held).toBeUndefined()
    // One link row, now found by its chain's key index too.
    expect(store.getLinks({ dnaHash: DNA, base: BASE })).toHaveLength(1)
    expect(store.findKeyed(DNA, AUTHOR, 'Link', 'k2')?.seq).toBe(2)
    expect([...store.heldActions(DNA)].map((a) => a.seq)).toEqual([3])
    expect([...store.chainDigestBlobs(DNA, AUTHOR, 10)]).toHaveLength(3)
    store.close()
  })

  it('read as the chain once promoted from the held row itself (as ingest promotes what follows)', () => {
    const store = openSqliteChainStore(':memory:')
    store.appendToChain(DNA, AUTHOR, null, [item(0)])
    store.holdOps([item(1)])
    // The row read back is marked held; appended as it is, it must not be cached so.
    const row = store.actionAt(DNA, AUTHOR, 1)!
    expect(row.held).toBe(true)
    store.appendToChain(DNA, AUTHOR, item(0).action.hash, [{ ...item(1), action: row }])
    expect(chainSeqs(store)).toEqual([0, 1])
    expect(store.getAction(row.hash)?.held).toBeUndefined()
    expect([...store.heldActions(DNA)]).toEqual([])
    store.close()
  })

  it('skip what is stored already, or an action at a seq taken (a fork is judged before)', () => {
    const store = openSqliteChainStore(':memory:')
    store.appendToChain(DNA, AUTHOR, null, [item(0)])
    store.holdOps([item(0), item(0, { hashByte: 77 }), item(4), item(4, { hashByte: 78 })])
    expect(store.getAction(item(0).action.hash)?.held).toBeUndefined()
    expect(store.getAction(item(0, { hashByte: 77 }).action.hash)).toBeNull()
    expect(store.getAction(item(4, { hashByte: 78 }).action.hash)).toBeNull()
    expect([...store.heldActions(DNA)].map((a) => a.hash)).toEqual([item(4).action.hash])
    store.close()
  })

  it('does not promote an action of another hash at the seq it holds: the append fails whole', () => {
    const store = openSqliteChainStore(':memory:')
    store.appendToChain(DNA, AUTHOR, null, [item(0)])
    store.holdOps([item(1)])
    expect(() => store.appendToChain(DNA, AUTHOR, item(0).action.hash, [item(1, { hashByte: 79 })])).toThrow(
      SeqTakenError,
    )
    expect(store.chainHead(DNA, AUTHOR)?.seq).toBe(0)
    store.close()
  })
})

describe('dropping a held op', () => {
  it('forgets its row and the link it wrote, frees its seq, and never drops a chain row', () => {
    const store = openSqliteChainStore(':memory:')
    store.appendToChain(DNA, AUTHOR, null, [item(0)])
    const link = item(1, { link: true })
    store.holdOps([link])
    const links = () => store.getLinks({ dnaHash: DNA, base: BASE, linkType: 0 })
    expect(links()).toHaveLength(1)
    // Read once, so its row sits in the recent rows too.
    expect(store.getAction(link.action.hash)?.held).toBe(true)
    expect(store.dropHeld(link.action.hash)).toBe(true)
    expect(store.getAction(link.action.hash)).toBeNull()
    expect(links()).toEqual([])
    expect(store.dropHeld(link.action.hash)).toBe(false)
    expect(store.dropHeld(item(0).action.hash)).toBe(false)
    expect(store.getAction(item(0).action.hash)).not.toBeNull()
    // Its seq is free for the chain's own action.
    store.appendToChain(DNA, AUTHOR, item(0).action.hash, [item(1, { hashByte: 80 })])
    expect(chainSeqs(store)).toEqual([0, 1])
    store.close()
  })
})

describe('a store made before held ops', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('opens, reads its chains as before and takes held ops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'held-ops-'))
    dirs.push(dir)
    const path = join(dir, 'chain.sqlite')
    const previous = SCHEMA.replace('  held INTEGER NOT NULL DEFAULT 0,\n', '')
    expect(previous).not.toBe(SCHEMA)
    const old = new Database(path)
    old.exec(previous)
    const first = item(0).action
    old
      .prepare(
        `INSERT INTO actions (hash, dna_hash, author, seq, type, timestamp, entry_hash, target_action, bytes, signature)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        Buffer.from(first.hash),
        Buffer.from(DNA),
        Buffer.from(AUTHOR),
        0,
        'Create',
        first.timestamp,
        Buffer.from(first.entryHash!),
        null,
        Buffer.from(first.bytes),
        Buffer.from(first.signature),
      )
    old
      .prepare('INSERT INTO chain_heads VALUES (?, ?, ?, ?)')
      .run(Buffer.from(DNA), Buffer.from(AUTHOR), Buffer.from(first.hash), 0)
    old.close()

    const store = openSqliteChainStore(path)
    expect(store.getAction(first.hash)).toEqual(first)
    expect(chainSeqs(store)).toEqual([0])
    store.appendToChain(DNA, AUTHOR, first.hash, [item(1)])
    store.holdOps([item(3)])
    expect(chainSeqs(store)).toEqual([0, 1])
    expect(store.getAction(item(3).action.hash)?.held).toBe(true)
    store.close()
    // And again, migrated already.
    const reopened = openSqliteChainStore(path)
    expect(chainSeqs(reopened)).toEqual([0, 1])
    expect([...reopened.heldActions(DNA)].map((a) => a.seq)).toEqual([3])
    reopened.close()
  })
})
