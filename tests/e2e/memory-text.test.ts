/**
 * Text in the shared memory: a collection whose embedding model is the generated tiny GGUF, which only
 * the runner holds. Texts upserted and queried on the asker are embedded by `infer.embed` tasks the
 * runner runs, so every vector of the collection comes from that one model file; a text finds itself
 * first. A collection without a model refuses texts, naming the field.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReplyOf } from '../../host/api/contract/index.ts'
import { type NamedRipple, runRipple, startAskerAndRunner } from './ripple-process.ts'

let root: string
let asker: NamedRipple
let runner: NamedRipple

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-memory-text-'))
  ;[asker, runner] = await startAskerAndRunner(root, 'e2e-memory-text')
}, 120_000)

afterAll(async () => {
  for (const d of [asker, runner]) if (d?.child.exitCode === null) d.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

const TEXTS = [
  'the cat sat on the mat',
  'a ship sails at dawn',
  'prime numbers never end',
  'bread rises in the oven',
]

async function memory(dataDir: string, ...args: string[]) {
  const res = await runRipple(['memory', ...args, '--data-dir', dataDir])
  return res
}

describe('text in the shared memory through a generated embedding model', { timeout: 180_000 }, () => {
  it('refuses a text for a collection whose embedding model no peer has: 404 naming the model, not a 500', async () => {
    const created = await memory(asker.dataDir, 'create', 'nowhere', '--dimension', '64', '--model', 'absent')
    expect(created.code, created.stderr).toBe(0)
    const res = await memory(asker.dataDir, 'upsert', 'nowhere', '--id', 'x', '--text', 'lost words')
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/EmbeddingUnavailableError \(HTTP 404\)/)
    expect(res.stderr).toMatch(/"absent" is on no peer of the mesh/)
    const listed = await memory(asker.dataDir, 'ls')
    // The collection stays, ready for when a peer has the model.
    expect(listed.stdout).toMatch(/nowhere\s+64\s+cosine\s+\d+\s+\d+\s+absent/)
  })

  it('embeds upserted and queried texts on the peer with the model; a text finds itself', async () => {
    const created = await memory(
      asker.dataDir,
      'create',
      'texts',
      '--dimension',
      '64',
      '--shards',
      '2',
      '--model',
      'tiny',
    )
    expect(created.code, created.stderr).toBe(0)
    // The runner must know the collection before writes reach it.
    await expect
      .poll(async () => (await memory(runner.dataDir, 'ls')).stdout, { timeout: 30_000, interval: 500 })
      .toMatch(/texts\s+64\s+cosine\s+2\s+2\s+tiny/)
    for (const [i, text] of TEXTS.entries()) {
      const res = await memory(
        asker.dataDir,
        'upsert',
        'texts',
        '--id',
        `t${i}`,
        '--text',
        text,
        '--metadata',
        `{"i":${i}}`,
      )
      expect(res.code, res.stderr).toBe(0)
    }
    for (const [i, text] of TEXTS.entries()) {
      const res = await memory(asker.dataDir, 'query', 'texts', '--text', text, '-k', '2', '--json')
      expect(res.code, res.stderr).toBe(0)
      const answer = JSON.parse(res.stdout) as ReplyOf<'queryCollection'>
      expect(answer.shards_missing).toEqual([])
      expect(answer.hits[0]).toMatchObject({ id: `t${i}`, metadata: { i } })
      expect(answer.hits[0]?.distance).toBeLessThan(1e-3)
    }

    const plain = await memory(asker.dataDir, 'create', 'plain', '--dimension', '64')
    expect(plain.code, plain.stderr).toBe(0)
    const refused = await memory(asker.dataDir, 'upsert', 'plain', '--id', 'x', '--text', 'hello')
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/text: collection "plain" has no embedding model: give vectors/)
  })
})
