/**
 * The store keeps recently read and written actions and entries in memory, and the warrants as last
 * read. What it serves from there must be what the database holds: a row written or read inside a
 * transaction that rolls back is gone from both, and a warrant added is listed at once.
 */
import { describe, expect, it } from 'vitest'
import type { CommitItem, Warrant } from '../../../host/storage/chain-store.ts'
import { openSqliteChainStore } from '../../../host/storage/sqlite-chain-store.ts'

const DNA = new Uint8Array(39).fill(1)
const AUTHOR = new Uint8Array(39).fill(2)

function item(seq: number): CommitItem {
  const hash = new Uint8Array(39).fill(100 + seq)
  const entryHash = new Uint8Array(39).fill(200 + seq)
  return {
    action: {
      hash,
      dnaHash: DNA,
      author: AUTHOR,
      seq,
      type: 'Create',
      timestamp: 1_000 + seq,
      entryHash,
      targetAction: null,
      bytes: new Uint8Array([seq]),
      signature: new Uint8Array(64),
    },
    entry: { hash: entryHash, kind: 'App', bytes: new Uint8Array([seq, seq]) },
  }
}

describe('recently used rows', () => {
  it('serves what was committed, and nothing of a transaction that rolled back', () => {
    const store = openSqliteChainStore(':memory:')
    const first = item(0)
    store.appendToChain(DNA, AUTHOR, null, [first])
    expect(store.getAction(first.action.hash)?.seq).toBe(0)
    expect(store.getEntry(first.entry!.hash)?.bytes).toEqual(new Uint8Array([0, 0]))

    const second = item(1)
    expect(() =>
      store.transaction(() => {
        store.appendToChain(DNA, AUTHOR, first.action.hash, [second])
        // Read (and so kept) while the transaction is open...
        expect(store.getAction(second.action.hash)?.seq).toBe(1)
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    // ...and gone with it.
    expect(store.getAction(second.action.hash)).toBeNull()
    expect(store.getEntry(second.entry!.hash)).toBeNull()
    expect(store.chainHead(DNA, AUTHOR)?.seq).toBe(0)
    // What was committed before is still served.
    expect(store.getAction(first.action.hash)?.seq).toBe(0)
    store.close()
  })

  it('a failed append outside a transaction leaves nothing behind', () => {
    const store = openSqliteChainStore(':memory:')
    const first = item(0)
    store.appendToChain(DNA, AUTHOR, null, [first])
    // Two actions in one append, the second at a seq already taken: the whole append fails.
    const clash = { ...item(2), action: { ...item(2).action, seq: 0 } }
    expect(() => store.appendToChain(DNA, AUTHOR, first.action.hash, [item(1), clash])).toThrow()
    expect(store.getAction(item(1).action.hash)).toBeNull()
    expect(store.chainHead(DNA, AUTHOR)?.seq).toBe(0)
    store.close()
  })
})

describe('the warrants kept', () => {
  const warrant = (n: number): Warrant => ({
    author: new Uint8Array(39).fill(n),
    dnaHash: DNA,
    rule: 'r',
    reason: `bad op ${n}`,
    actionHash: null,
    reportedBy: AUTHOR,
    timestamp: n,
  })

  it('list a warrant as soon as it is added, and none of a transaction that rolled back', () => {
    const store = openSqliteChainStore(':memory:')
    expect(store.listWarrants()).toEqual([])
    store.addWarrant(warrant(3))
    expect(store.listWarrants().map((w) => w.reason)).toEqual(['bad op 3'])
    expect(() =>
      store.transaction(() => {
        store.addWarrant(warrant(4))
        expect(store.listWarrants()).toHaveLength(2)
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    expect(store.listWarrants().map((w) => w.reason)).toEqual(['bad op 3'])
    store.close()
  })
})
