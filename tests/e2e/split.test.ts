/**
 * One model over several machines: four `ripple up` processes on loopback, each letting models take
 * at most 30 MiB (`--model-memory`), so the generated model (about 71 MiB with its buffers) fits on
 * none alone. The head (the only peer with the file) splits it over itself and the fewest others
 * with llama.cpp's RPC, carried by the mesh; `/v1` on another peer gets the same answer the file
 * gives whole on one machine. A worker killed mid-answer fails the request naming it, and the split
 * is planned again without it, on the spare peer. A request for a model no peer holds alone splits it.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeersReply } from '../../host/api/contract/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { type ModelsFixture, modelsFixture } from '../unit/inference/inference-fixtures.ts'
import { isolatedNetwork, REPO_ROOT, runRipple } from './ripple-process.ts'
import { type SplitPeer, startSplitPeer, untilHeadSeesPeers } from './split-peers.ts'

const SHOTS = join(REPO_ROOT, 'test-results', 'screenshots')

type Peer = SplitPeer

const MODEL = { ...TINY_MODEL, blocks: 6, name: 'ripple split test' }
let root: string
let peers: Peer[]
let local: ModelsFixture
const ask = [{ role: 'user' as const, content: 'Tell me about the mesh, split over peers.' }]

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-split-'))
  const network = await isolatedNetwork(root, 'e2e-split')
  peers = await Promise.all(
    ['head', 'w1', 'w2', 'w3'].map((name) =>
      startSplitPeer({
        root,
        network,
        name,
        modelMemory: '30MiB',
        place: name === 'head' ? (models) => writeLlamaModel(join(models, 'big.gguf'), MODEL) : undefined,
      }),
    ),
  )
  local = await modelsFixture(MODEL)
  // The head must see every other peer's heartbeat (free model memory) before it plans.
  await untilHeadSeesPeers(peers[0]!, 4)
}, 180_000)

afterAll(async () => {
  for (const p of peers ?? []) if (p.child.exitCode === null) p.child.kill('SIGKILL')
  await local?.close()
  await rm(root, { recursive: true, force: true })
})

interface SplitListing {
  splits: { model: string; peers: { agent: string; layers: number; bytes: number }[] }[]
}
/** What the whole file gives on one machine (this process's engine), for the same request. */
const soloAnswer = async () =>
  (await local.manager.load('tiny')).generate({ messages: ask, max_tokens: 24, temperature: 0, seed: 5 })
const splitOf = async (peer: Peer) =>
  (
    JSON.parse(
      (await runRipple(['models', 'ls', '--json', '--data-dir', peer.dataDir])).stdout,
    ) as SplitListing
  ).splits

describe('a model split over peers', { timeout: 120_000 }, () => {
  it('fits on none alone: `ripple models load --split` spreads it over the head and the fewest others', async () => {
    const head = peers[0]!
    const plain = await runRipple(['models', 'load', 'big', '--data-dir', head.dataDir])
    expect(plain.code).toBe(1)
    const load = await runRipple(['models', 'load', 'big', '--split', '--data-dir', head.dataDir])
    expect(load.code, load.stderr).toBe(0)
    const [split] = await splitOf(head)
    expect(split?.model).toBe('big')
    // 3 × 30 MiB hold it with room to spare; 2 would not: the head and two of the three others.
    expect(split?.peers).toHaveLength(3)
    expect(split?.peers[0]?.agent).toBe(head.agent)
    expect(split?.peers.reduce((sum, p) => sum + p.layers, 0)).toBe(6)
    const ls = await runRipple(['models', 'ls', '--data-dir', head.dataDir])
    expect(ls.stdout).toMatch(/^split {5}big over 3 peers \(head first\): /m)
    // Each worker counts its share within its --model-memory, and says so in its heartbeats.
    for (const share of split!.peers.slice(1)) {
      const worker = peers.find((p) => p.agent === share.agent)!
      for (const deadline = Date.now() + 30_000; ; ) {
        const seen = JSON.parse(
          (await runRipple(['peers', '--json', '--data-dir', head.dataDir])).stdout,
        ) as PeersReply
        const load = seen.peers.find((p) => p.agent === worker.agent)?.load
        if (load?.split_held?.length) {
          expect(load.split_held).toEqual([{ head: head.agent, model: 'big', bytes: share.bytes }])
          expect(load.model_free_bytes).toBeLessThanOrEqual(30 * 2 ** 20 - share.bytes)
          break
        }
        if (Date.now() > deadline) throw new Error(`worker ${worker.agent} never counted its share`)
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
    }
  })

  it('answers /v1 on another peer with what the whole file gives on one machine', async () => {
    const asker = peers[3]!
    const openai = new OpenAI({ baseURL: `${asker.url}/v1`, apiKey: asker.token, maxRetries: 0 })
    const { data, response } = await openai.chat.completions
      .create({ model: 'big', messages: ask, max_tokens: 24, temperature: 0, seed: 5 })
      .withResponse()
    const solo = await soloAnswer()
    expect(data.choices[0]?.message.content).toBe(solo.text)
    expect(response.headers.get('x-ripple-peer')).toBe(peers[0]!.agent)
    // Every peer shows the split, as the head's heartbeats report it: /v1/models and `ripple peers`.
    const [split] = await splitOf(peers[0]!)
    for (const deadline = Date.now() + 30_000; ; ) {
      const entry = (await openai.models.retrieve('big')) as unknown as {
        ripple: { split: { agent: string; layers: number }[] | null }
      }
      if (entry.ripple.split !== null) {
        expect(entry.ripple.split.map((p) => [p.agent, p.layers])).toEqual(
          split?.peers.map((p) => [p.agent, p.layers]),
        )
        break
      }
      if (Date.now() > deadline) throw new Error('the asker never saw the split')
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    const seen = await runRipple(['peers', '--data-dir', asker.dataDir])
    expect(seen.stdout).toMatch(/^split big headed by head: /m)
  })

  it("shows the split on the dashboards' models pages: the head's, and a worker's (its share, the mesh table)", async () => {
    const [split] = await splitOf(peers[0]!)
    const names = new Map(peers.map((p) => [p.agent, p.name]))
    const expected = (split?.peers ?? []).map((p) => `${names.get(p.agent)}.*${p.layers} layers`).join('.*')
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
    try {
      for (const [peer, where] of [
        [peers[0]!, 'p.split[data-split="big"]'],
        [peers.find((p) => p.agent === split?.peers[1]?.agent)!, 'tr[data-model="big"] .split-over'],
      ] as const) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
        // Signed in with the token (the one-time link printed at start has expired by now).
        await page.goto(`${peer.url}/#/models`)
        await page.locator('input').first().fill(peer.token)
        await page.getByRole('button', { name: 'Sign in' }).click()
        await expect
          .poll(
            () =>
              page
                .locator(where)
                .textContent({ timeout: 1000 })
                .catch(() => ''),
            { timeout: 30_000 },
          )
          .toMatch(new RegExp(expected, 's'))
        await mkdir(SHOTS, { recursive: true })
        if (peer !== peers[0]) {
          // A worker of the split says what it holds for whom.
          expect(await page.locator('.worker-share').textContent()).toMatch(
            new RegExp(`${split?.peers[1]?.layers} layers.*big.*for\\s+head`, 's'),
          )
        }
        await page.screenshot({ path: join(SHOTS, `split-models-${peer.name}.png`), fullPage: true })
        await page.close()
      }
    } finally {
      await browser.close()
    }
  })

  it('fails a request in flight naming the worker that was killed, then splits again without it', async () => {
    const head = peers[0]!
    const [before] = await splitOf(head)
    const victim = peers.find((p) => p.agent === before?.peers[2]?.agent)
    if (!victim) throw new Error('no worker to kill')
    const openai = new OpenAI({ baseURL: `${head.url}/v1`, apiKey: head.token, maxRetries: 0 })
    const stream = await openai.chat.completions.create({
      model: 'big',
      messages: ask,
      max_tokens: 30_000,
      temperature: 0,
      stream: true,
    })
    let text = ''
    const failure = (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? ''
        if (text.length > 20 && victim.child.exitCode === null) victim.child.kill('SIGKILL')
      }
    })()
    await expect(failure).rejects.toThrow(new RegExp(`lost split worker ${victim.agent}`))
    expect(text.length).toBeGreaterThan(20)
    // Planned again without it, on the spare, within a minute.
    for (const deadline = Date.now() + 60_000; ; ) {
      const [again] = await splitOf(head)
      if (again && again.peers.length === 3 && !again.peers.some((p) => p.agent === victim.agent)) break
      if (Date.now() > deadline) throw new Error('the split was not planned again without the lost worker')
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const answer = await openai.chat.completions.create({
      model: 'big',
      messages: ask,
      max_tokens: 24,
      temperature: 0,
      seed: 5,
    })
    const solo = await soloAnswer()
    expect(answer.choices[0]?.message.content).toBe(solo.text)
  })

  it('splits a model on its own when a request asks for one no peer can hold alone', async () => {
    const head = peers[0]!
    const unloaded = await runRipple(['models', 'unload', 'big', '--data-dir', head.dataDir])
    expect(unloaded.code, unloaded.stderr).toBe(0)
    expect(await splitOf(head)).toEqual([])
    // A request, not `--split`: the head has the file and not the room, so it splits it to answer.
    const openai = new OpenAI({ baseURL: `${head.url}/v1`, apiKey: head.token, maxRetries: 0 })
    const answer = await openai.chat.completions.create({
      model: 'big',
      messages: ask,
      max_tokens: 24,
      temperature: 0,
      seed: 5,
    })
    expect(answer.choices[0]?.message.content).toBe((await soloAnswer()).text)
    const [split] = await splitOf(head)
    expect(split?.peers).toHaveLength(3)
  })
})
