/**
 * The shared memory through three `ripple up` processes on loopback (a network of their own) and the
 * CLI: a collection created on one, 3,000 documents upserted from a JSON lines file, queried from
 * another (each document finds itself first), still answered in full after a holder is SIGKILLed.
 * Bad input (a wrong dimension, a bad line in a file, an unknown collection) is refused naming what is
 * wrong, and nothing of it is written.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient, ApiRequestError } from '../../host/api/client/index.ts'
import type { ReplyOf } from '../../host/api/contract/index.ts'
import { readDaemonFile } from '../../host/daemon/daemon-file.ts'
import { clusteredVectors, row } from '../fixtures/vector-data.ts'
import { eventually, isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const NAMES = ['alpha', 'beta', 'gamma'] as const
const DIM = 16
const COUNT = 3000
let root: string
let daemons: (RunningRipple & { dataDir: string })[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-memory-'))
  const networkFile = await isolatedNetwork(root, 'e2e-memory', {
    heartbeat: { interval_ms: 500, stale_after_missed: 3, offline_after_ms: 4000 },
  })
  daemons = await Promise.all(
    NAMES.map(async (name) => {
      const dataDir = join(root, name)
      const flags = ['--network', networkFile, '--data-dir', dataDir, '--api-port', '0', '--name', name]
      return { ...(await startRipple([...flags, '--log-level', 'warn'], 90_000)), dataDir }
    }),
  )
}, 120_000)

afterAll(async () => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

async function memory(dataDir: string, ...args: string[]) {
  return runRipple(['memory', ...args, '--data-dir', dataDir])
}

async function query(dataDir: string, vector: Float32Array): Promise<ReplyOf<'queryCollection'>> {
  const res = await memory(
    dataDir,
    'query',
    'notes',
    '--vector',
    JSON.stringify(Array.from(vector)),
    '-k',
    '3',
    '--json',
  )
  expect(res.code, res.stderr).toBe(0)
  return JSON.parse(res.stdout) as ReplyOf<'queryCollection'>
}

describe('shared memory across three ripple up processes', { timeout: 240_000 }, () => {
  it('create, upsert a file, query from another peer, keep answering after a holder is killed', async () => {
    const [alpha, beta, gamma] = daemons as [(typeof daemons)[0], (typeof daemons)[0], (typeof daemons)[0]]
    const created = await memory(
      alpha.dataDir,
      'create',
      'notes',
      '--dimension',
      String(DIM),
      '--shards',
      '4',
    )
    expect(created.code, created.stderr).toBe(0)
    // Every peer sees the collection and places each shard on two peers; a new shard is ready at once.
    await eventually(async () => {
      for (const d of daemons) {
        const res = await memory(d.dataDir, 'show', 'notes', '--json')
        expect(res.code, res.stderr).toBe(0)
        const view = JSON.parse(res.stdout) as ReplyOf<'showCollection'>
        expect(view.shards.every((s) => s.holders.length === 2)).toBe(true)
      }
    }, 60_000)

    const data = clusteredVectors(COUNT, DIM, 5)
    const file = join(root, 'docs.jsonl')
    const lines = Array.from({ length: COUNT }, (_, i) =>
      JSON.stringify({ id: `n${i}`, vector: Array.from(row(data, DIM, i)), metadata: { i } }),
    )
    await writeFile(file, `${lines.join('\n')}\n`)
    const upserted = await memory(alpha.dataDir, 'upsert', 'notes', '--file', file)
    expect(upserted.code, upserted.stderr).toBe(0)
    expect(upserted.stdout).toContain(`upserted ${COUNT}`)
    expect(upserted.stderr).toMatch(/upserting into notes .*100%/)

    // A shard none of whose holders answered in time is named missing, not waited for: on a loaded
    // machine (CI at ec31dec: shards 1 and 2 missing once) the first queries may come back partial, so
    // each is asked until whole.
    for (const i of [0, 1234, 2999]) {
      await eventually(async () => {
        const answer = await query(beta.dataDir, row(data, DIM, i))
        expect(answer.shards_missing).toEqual([])
        expect(answer.hits[0]).toMatchObject({ id: `n${i}`, metadata: { i } })
      }, 30_000)
    }

    gamma.child.kill('SIGKILL')
    await gamma.exited
    for (const i of [7, 777, 2222]) {
      const answer = await query(beta.dataDir, row(data, DIM, i))
      expect(answer.shards_missing).toEqual([])
      expect(answer.hits[0]?.id).toBe(`n${i}`)
    }
  })

  it('refuses a wrong dimension, a bad line and an unknown collection, writing nothing', async () => {
    const [alpha, beta] = daemons as [(typeof daemons)[0], (typeof daemons)[0]]
    const wrong = await memory(alpha.dataDir, 'upsert', 'notes', '--id', 'x', '--vector', '[1,2,3]')
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toMatch(/docs\.0\.vector: has 3 numbers; collection "notes" has dimension 16/)

    const fresh = Float32Array.from({ length: DIM }, (_, d) => (d === 3 ? 5 : -1))
    const file = join(root, 'bad.jsonl')
    await writeFile(
      file,
      `${JSON.stringify({ id: 'fresh', vector: Array.from(fresh) })}\n${JSON.stringify({ id: 'bad', vector: Array(DIM).fill(0.5), metadata: { big: 'x'.repeat(5000) } })}\n`,
    )
    const bad = await memory(alpha.dataDir, 'upsert', 'notes', '--file', file)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/line 2\.metadata: is \d+ bytes as JSON; at most 4096/)
    expect((await query(beta.dataDir, fresh)).hits.map((h) => h.id)).not.toContain('fresh')

    // Through the API: a 400 naming the field; an overflowing float32 is not finite.
    const api = new ApiClient({
      baseUrl: (await readDaemonFile(alpha.dataDir))!.api_url,
      token: (await readFile(join(alpha.dataDir, 'api-token'), 'utf8')).trim(),
    })
    const huge = Array.from({ length: DIM }, (_, d) => (d === 5 ? 1e39 : 1))
    const refused = await api
      .upsertDocs('notes', [
        { id: 'ok', vector: Array(DIM).fill(1) },
        { id: 'inf', vector: huge },
      ])
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ApiRequestError)
    expect(refused).toMatchObject({
      status: 400,
      errorName: 'InvalidMemoryInputError',
      details: { field: 'docs.1.vector.5' },
    })
    const missing = await api.queryCollection('nope', { vector: [1] }).catch((e: unknown) => e)
    expect(missing).toMatchObject({ status: 404, details: { field: 'collection' } })
    expect(
      (await query(beta.dataDir, Float32Array.from(Array(DIM).fill(1)))).hits.map((h) => h.id),
    ).not.toContain('ok')

    const unknown = await memory(beta.dataDir, 'query', 'nope', '--vector', '[1]')
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/no collection is named "nope"/)
    // The daemon carries on.
    expect((await memory(beta.dataDir, 'ls')).stdout).toMatch(/notes\s+16\s+cosine\s+4\s+2\s+none/)
  })
})
