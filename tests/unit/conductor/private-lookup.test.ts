import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CONDUCTOR_DB_FILE,
  createEmbeddedConductor,
  type EmbeddedConductor,
} from '../../../host/conductor/embedded/index.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { type AnswerLeaf, answerLeavesOf } from '../../../zomes-bindings/index.ts'
import { payloadOf, writePayloads } from './fixtures/long-chain.ts'
import { tempDir } from './fixtures/test-cell.ts'

const network: NetworkConfig = {
  name: 'test',
  seed: `lookup-${process.pid}`,
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

async function freshConductor(): Promise<{ conductor: EmbeddedConductor; dataDir: string }> {
  const dataDir = await tempDir()
  dirs.push(dataDir)
  return { conductor: await conductorIn(dataDir), dataDir }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** A runner's window of one answer to `request`, as post_answer_batch takes it. */
function answerWindow(conductor: EmbeddedConductor, request: string) {
  const now = Date.now() * 1000
  const leaf: AnswerLeaf = {
    request,
    requester: conductor.agentPubKey,
    model: 'tiny',
    model_file_hash: null,
    status: 'ok',
    output_hash: sha256('an answer'),
    tokens_in: 3,
    tokens_out: 5,
    started_at: now,
    finished_at: now,
  }
  return { leaves: answerLeavesOf([leaf]), opened_at: now, closed_at: now }
}

const getPayload = (c: EmbeddedConductor, hash: string) => c.callZome('resource_mesh', 'get_payload', hash)
const getServed = (c: EmbeddedConductor, request: string) =>
  c.callZome('resource_mesh', 'get_served', request)

describe('private look-ups through the entry-key index', () => {
  it('finds a payload and a request 100,000 entries back, and a miss reads no chain', async () => {
    const { conductor } = await freshConductor()
    const kept = payloadOf('the oldest input')
    const request = sha256('the oldest request')
    await conductor.callZome('resource_mesh', 'keep_payload', kept)
    await conductor.callZome('resource_mesh', 'post_answer_batch', answerWindow(conductor, request))
    await writePayloads(conductor, 100_000, 'later input')
    expect(conductor.cell('resource_mesh').chain.head.seq).toBeGreaterThan(100_000)

    expect(await getPayload(conductor, kept.hash)).toEqual(kept)
    const served = await getServed(conductor, request)
    expect(served?.answered?.proof.leaf.request).toBe(request)
    // Its batch, public: the count, no tokens (the leaf keeps them).
    expect(served?.answered?.batch.entry.totals).toEqual({ count: 1, tokens_in: 0, tokens_out: 0 })
    expect(served?.answered?.proof.leaf).toMatchObject({ tokens_in: 3, tokens_out: 5 })

    const store = conductor.store
    const reads = [
      vi.spyOn(store, 'chainActions'),
      vi.spyOn(store, 'chainRange'),
      vi.spyOn(store, 'getEntry'),
    ]
    expect(await getPayload(conductor, payloadOf('never kept').hash)).toBeNull()
    expect(await getServed(conductor, sha256('never asked'))).toBeNull()
    for (const read of reads) expect(read).not.toHaveBeenCalled()
  }, 120_000)

  it('indexes a data dir from before the index when it opens, its old entries found', async () => {
    const { conductor, dataDir } = await freshConductor()
    const kept = payloadOf('kept before the index')
    const request = sha256('asked before the index')
    await conductor.callZome('resource_mesh', 'keep_payload', kept)
    await conductor.callZome('resource_mesh', 'post_answer_batch', answerWindow(conductor, request))
    // Past the 4,096 payloads the walk looked back through.
    await writePayloads(conductor, 5_000, 'later input')
    await conductor.close()
    const db = new Database(join(dataDir, CONDUCTOR_DB_FILE))
    db.exec('DROP TABLE entry_keys; DROP TABLE entry_key_chains')
    db.close()

    const reopened = await conductorIn(dataDir)
    expect(await getPayload(reopened, kept.hash)).toEqual(kept)
    expect((await getServed(reopened, request))?.answered?.proof.leaf.request).toBe(request)
    const later = payloadOf('kept after the index')
    await reopened.callZome('resource_mesh', 'keep_payload', later)
    expect(await getPayload(reopened, later.hash)).toEqual(later)
  }, 60_000)

  it('checks what an index row points at: a row moved to another key finds nothing', async () => {
    const { conductor, dataDir } = await freshConductor()
    const kept = payloadOf('kept')
    await conductor.callZome('resource_mesh', 'keep_payload', kept)
    await conductor.close()
    const forged = payloadOf('never kept').hash
    const db = new Database(join(dataDir, CONDUCTOR_DB_FILE))
    expect(db.prepare('UPDATE entry_keys SET key = ? WHERE key = ?').run(forged, kept.hash).changes).toBe(1)
    db.close()
    expect(await getPayload(await conductorIn(dataDir), forged)).toBeNull()
  })

  it('answers a look-up while a zome call holds the cell’s queue', async () => {
    const { conductor } = await freshConductor()
    const kept = payloadOf('an input')
    await conductor.callZome('resource_mesh', 'keep_payload', kept)
    let release = () => {}
    const holding = conductor.cell('resource_mesh').call(() => new Promise<void>((r) => (release = r)))
    expect(await getPayload(conductor, kept.hash)).toEqual(kept)
    release()
    await holding
  })

  it('refuses a write from a read-only call and stores nothing', async () => {
    const { conductor } = await freshConductor()
    const cell = conductor.cell('resource_mesh')
    const head = cell.chain.head.seq
    await expect(cell.read((hdk) => hdk.create_entry('TaskPayload', payloadOf('sneaked')))).rejects.toThrow(
      'a read of resource_mesh wrote to the chain',
    )
    expect(cell.chain.head.seq).toBe(head)
  })
})
