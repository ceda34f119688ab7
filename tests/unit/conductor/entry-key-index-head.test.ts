import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ENTRY_KEY_INDEX_VERSION,
  planEntryKeyIndex,
  windowClosedKey,
} from '../../../host/conductor/embedded/entry-keys.ts'
import {
  CONDUCTOR_DB_FILE,
  createEmbeddedConductor,
  type EmbeddedConductor,
} from '../../../host/conductor/embedded/index.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { answerLeavesOf, servedLeavesOf } from '../../../zomes-bindings/index.ts'
import { payloadOf, writePayloads } from './fixtures/long-chain.ts'
import { tempDir } from './fixtures/test-cell.ts'

const network: NetworkConfig = {
  name: 'test',
  seed: `index-head-${process.pid}`,
  backend: 'embedded',
  dna_properties: {},
  heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

const open: EmbeddedConductor[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function conductorIn(dataDir: string): Promise<EmbeddedConductor> {
  const conductor = await createEmbeddedConductor({ dataDir, network })
  open.push(conductor)
  return conductor
}

async function closeConductor(conductor: EmbeddedConductor): Promise<void> {
  open.splice(open.indexOf(conductor), 1)
  await conductor.close()
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** A runner's window of one answer to `request`, closed at `closedAt` (µs). */
function answerWindow(conductor: EmbeddedConductor, request: string, closedAt: number) {
  const leaves = answerLeavesOf([
    {
      request,
      requester: conductor.agentPubKey,
      model: 'tiny',
      model_file_hash: null,
      status: 'ok',
      output_hash: sha256('an answer'),
      tokens_in: 3,
      tokens_out: 5,
      started_at: closedAt - 10,
      finished_at: closedAt - 5,
    },
  ])
  return { leaves, opened_at: closedAt - 100, closed_at: closedAt }
}

/** A requester's window of one refused request, closed at `closedAt` (µs). */
function servedWindow(conductor: EmbeddedConductor, request: string, closedAt: number) {
  const leaves = servedLeavesOf([
    {
      request,
      runner: conductor.agentPubKey,
      model: 'tiny',
      proof: null,
      output_hash: sha256('nothing'),
      accepted: false,
      reason: 'refused',
    },
  ])
  return { leaves, opened_at: closedAt - 100, closed_at: closedAt }
}

/** The index tables as they are now, restored by the returned function: what a release without the index leaves. */
function snapshotIndex(dataDir: string): () => void {
  const db = new Database(join(dataDir, CONDUCTOR_DB_FILE))
  db.exec(`CREATE TABLE kept_keys AS SELECT * FROM entry_keys;
    CREATE TABLE kept_heads AS SELECT * FROM entry_key_heads;`)
  db.close()
  return () => {
    const again = new Database(join(dataDir, CONDUCTOR_DB_FILE))
    again.exec(`DELETE FROM entry_keys; INSERT INTO entry_keys SELECT * FROM kept_keys;
      DELETE FROM entry_key_heads; INSERT INTO entry_key_heads SELECT * FROM kept_heads;
      DROP TABLE kept_keys; DROP TABLE kept_heads;`)
    again.close()
  }
}

const keyRows = (dataDir: string, key: string) => {
  const db = new Database(join(dataDir, CONDUCTOR_DB_FILE), { readonly: true })
  const n = db.prepare('SELECT count(*) FROM entry_keys WHERE key = ?').pluck().get(key)
  db.close()
  return n
}

describe('planEntryKeyIndex', () => {
  const at = (byte: number) => new Uint8Array([byte, byte])
  const chain = [at(0), at(1), at(2), at(3)]
  const hashAt = (seq: number) => chain[seq] ?? null
  const head = { seq: 3, hash: at(3) }
  const index = (seq: number, hash: Uint8Array, version = ENTRY_KEY_INDEX_VERSION) => ({
    version,
    head: { seq, hash },
  })

  it.each([
    ['no index yet', null, { from: 0, replace: true }],
    [
      'an index from other key rules',
      index(3, at(3), ENTRY_KEY_INDEX_VERSION - 1),
      { from: 0, replace: true },
    ],
    [
      'an index that does not say how far it reaches',
      { version: ENTRY_KEY_INDEX_VERSION, head: null },
      { from: 0, replace: true },
    ],
    ['an index at the head', index(3, at(3)), 'current'],
    ['a chain moved on without the index', index(1, at(1)), { from: 2, replace: false }],
    ['an index whose head is not on the chain', index(1, at(9)), { from: 0, replace: true }],
    ['an index past the head', index(5, at(5)), { from: 0, replace: true }],
  ] as const)('%s', (_, state, plan) => {
    expect(planEntryKeyIndex(state, head, hashAt)).toEqual(plan)
  })
})

describe('the entry-key index follows the chain it was built from', () => {
  it('indexes at open what a release without the index appended, so nothing it wrote is missed', async () => {
    const dataDir = await tempDir()
    dirs.push(dataDir)
    const first = await conductorIn(dataDir)
    const before = payloadOf('kept by this release')
    await first.callZome('resource_mesh', 'keep_payload', before)
    await closeConductor(first)
    const restoreIndex = snapshotIndex(dataDir)

    // The chain moves on; the index is then put back as it was, as a release without the index
    // (0.1.0 opening this dir) leaves it: actions and head written, no key rows, no index head.
    const second = await conductorIn(dataDir)
    const later = payloadOf('kept by an older release')
    const request = sha256('asked on an older release')
    await second.callZome('resource_mesh', 'keep_payload', later)
    await writePayloads(second, 50, 'more')
    await second.callZome('resource_mesh', 'post_answer_batch', answerWindow(second, request, 5_000_000))
    await closeConductor(second)
    restoreIndex()
    expect(keyRows(dataDir, later.hash)).toBe(0)

    const reopened = await conductorIn(dataDir)
    expect(keyRows(dataDir, later.hash)).toBe(1)
    expect(await reopened.callZome('resource_mesh', 'get_payload', later.hash)).toEqual(later)
    expect(await reopened.callZome('resource_mesh', 'get_payload', before.hash)).toEqual(before)
    const served = await reopened.callZome('resource_mesh', 'get_served', request)
    expect(served?.answered?.proof.leaf.request).toBe(request)
    const own = await reopened.callZome('resource_mesh', 'list_own_windows', 0)
    expect(own.answered.map((w) => w.closed_at)).toEqual([5_000_000])
    // Caught up, and kept up by this release's own appends: the index reaches the chain's head.
    await reopened.callZome('resource_mesh', 'keep_payload', payloadOf('kept after the catch-up'))
    await closeConductor(reopened)
    const db = new Database(join(dataDir, CONDUCTOR_DB_FILE), { readonly: true })
    const heads = db
      .prepare(
        `SELECT c.seq AS chain, k.seq AS indexed FROM chain_heads c
         JOIN entry_key_heads k ON k.dna_hash = c.dna_hash AND k.author = c.author`,
      )
      .all() as { chain: number; indexed: number }[]
    db.close()
    expect(heads.length).toBeGreaterThan(0)
    for (const { chain, indexed } of heads) expect(indexed).toBe(chain)
  }, 60_000)
})

describe('list_own_windows', () => {
  it('reads the windows closed from `since` through the index, oldest first, without walking the chain', async () => {
    const dataDir = await tempDir()
    dirs.push(dataDir)
    const conductor = await conductorIn(dataDir)
    const closes = [1_000_000, 2_000_000, 3_000_000]
    for (const [i, at] of closes.entries()) {
      await conductor.callZome(
        'resource_mesh',
        'post_answer_batch',
        answerWindow(conductor, sha256(`a${i}`), at),
      )
      await conductor.callZome(
        'resource_mesh',
        'record_served_batch',
        servedWindow(conductor, sha256(`s${i}`), at),
      )
      await writePayloads(conductor, 20, `between ${i}`)
    }
    const walk = vi.spyOn(conductor.store, 'chainActions')

    const all = await conductor.callZome('resource_mesh', 'list_own_windows', 0)
    expect(all.answered.map((w) => w.closed_at)).toEqual(closes)
    expect(all.served.map((w) => w.leaves.leaves[0]!.request)).toEqual([
      sha256('s0'),
      sha256('s1'),
      sha256('s2'),
    ])
    const recent = await conductor.callZome('resource_mesh', 'list_own_windows', 2_000_000)
    expect(recent.answered.map((w) => [w.leaves.leaves[0]!.request, w.opened_at, w.closed_at])).toEqual([
      [sha256('a1'), 1_999_900, 2_000_000],
      [sha256('a2'), 2_999_900, 3_000_000],
    ])
    expect(recent.served.map((w) => w.closed_at)).toEqual([2_000_000, 3_000_000])
    expect((await conductor.callZome('resource_mesh', 'list_own_windows', 3_000_001)).answered).toEqual([])
    expect(walk).not.toHaveBeenCalled()
  })

  it('keys a window by its close so that keys sort as times', () => {
    expect(windowClosedKey(999) < windowClosedKey(1_000)).toBe(true)
    expect(windowClosedKey(-5)).toBe(windowClosedKey(0))
    expect(windowClosedKey(Number.MAX_SAFE_INTEGER) < 'closed;').toBe(true)
  })
})
