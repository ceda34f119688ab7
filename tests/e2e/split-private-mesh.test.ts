/**
 * A split of a model with 64 MiB tensors over a private mesh (a pre-shared key: every connection
 * goes through host/net/private-network.ts): three `ripple up` on loopback, each letting models take
 * 112 MiB, and a generated F16 model (150 MiB) whose token embedding and output are 65536 × 512, 64
 * MiB each. The output goes to the last worker, over the mesh. With @libp2p/pnet's cipher, such a
 * split ended the head daemon (RangeError from its WebAssembly memory in a socket's data handler,
 * issue 33); here the answer equals the whole file's on one machine and every daemon lives on.
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileHashCache } from '../../host/inference/file-hash-cache.ts'
import { type LlamaModelOptions, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { ModelManager } from '../../host/inference/model-manager.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { isolatedNetwork, runRipple } from './ripple-process.ts'
import { type SplitPeer, startSplitPeer, untilHeadSeesPeers } from './split-peers.ts'

type Peer = SplitPeer

const MiB = 1024 ** 2
const MODEL: LlamaModelOptions = {
  embedding: 512,
  heads: 4,
  blocks: 4,
  feedForward: 1024,
  type: 'f16',
  vocabularySize: 65_536,
  name: 'ripple split, 64 MiB tensors',
}
const ask = [{ role: 'user' as const, content: 'Tell me about the mesh, split over peers.' }]
let root: string
let peers: Peer[]
let solo: ModelManager

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-split-pnet-'))
  const network = await isolatedNetwork(root, 'e2e-split-pnet', {
    libp2p: {
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: true,
      bootstrap: [],
      psk: randomBytes(32).toString('hex'),
    },
  })
  // One file, generated once: the head's copy is a hard link of the one this process loads whole.
  await mkdir(join(root, 'solo'))
  const file = await writeLlamaModel(join(root, 'solo', 'big.gguf'), MODEL)
  expect(file.bytes).toBeGreaterThan(128 * MiB)
  peers = await Promise.all(
    ['head', 'w1', 'w2'].map((name) =>
      startSplitPeer({
        root,
        network,
        name,
        modelMemory: '112MiB',
        place: name === 'head' ? (models) => link(file.path, join(models, 'big.gguf')) : undefined,
      }),
    ),
  )
  solo = new ModelManager({
    modelsDir: join(root, 'solo'),
    hashCache: new FileHashCache(null),
    threads: 1,
    contextSize: 2048,
    logger: silentLogger(),
  })
  // The head must see the others' heartbeats (free model memory) before it plans.
  await untilHeadSeesPeers(peers[0]!, 3)
}, 180_000)

afterAll(async () => {
  for (const p of peers ?? []) if (p.child.exitCode === null) p.child.kill('SIGKILL')
  await solo?.stop()
  await rm(root, { recursive: true, force: true })
})

/** The biggest file in a worker's tensor cache: what llama.cpp's RPC sent it whole, over the mesh. */
async function biggestCached(peer: Peer): Promise<number> {
  const entries = await readdir(join(peer.dataDir, 'rpc-cache'), { recursive: true, withFileTypes: true })
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
  return Math.max(0, ...(await Promise.all(files.map(async (f) => (await stat(f)).size))))
}

describe('a split over a private mesh, of a model with 64 MiB tensors', { timeout: 120_000 }, () => {
  it('loads over the head and both workers, the 64 MiB output crossing the mesh', async () => {
    const head = peers[0]!
    const load = await runRipple(['models', 'load', 'big', '--split', '--data-dir', head.dataDir], {
      timeoutMs: 90_000,
    })
    expect(load.code, load.stderr).toBe(0)
    const listing = JSON.parse(
      (await runRipple(['models', 'ls', '--json', '--data-dir', head.dataDir])).stdout,
    ) as {
      splits: { model: string; peers: { agent: string }[] }[]
    }
    // 3 × 112 MiB hold it with the planner's 20% to spare; 2 would not.
    expect(listing.splits[0]?.peers).toHaveLength(3)
    expect(listing.splits[0]?.peers[0]?.agent).toBe(head.agent)
    // The last device holds the output tensor (65536 × 512 F16): it arrived whole through the tunnel.
    const last = peers.find((p) => p.agent === listing.splits[0]?.peers[2]?.agent)!
    expect(await biggestCached(last)).toBeGreaterThanOrEqual(64 * MiB)
  })

  it("answers with the whole file's answer on one machine, and no daemon died", async () => {
    const asker = peers[1]!
    const openai = new OpenAI({ baseURL: `${asker.url}/v1`, apiKey: asker.token, maxRetries: 0 })
    const answer = await openai.chat.completions.create({
      model: 'big',
      messages: ask,
      max_tokens: 24,
      temperature: 0,
      seed: 5,
    })
    const whole = await (await solo.load('big')).generate({
      messages: ask,
      max_tokens: 24,
      temperature: 0,
      seed: 5,
    })
    expect(answer.choices[0]?.message.content).toBe(whole.text)
    for (const p of peers) {
      expect(p.child.exitCode, `${p.name}: ${p.stderr()}`).toBeNull()
      expect(p.stderr()).not.toMatch(/RangeError|WebAssembly/)
    }
  })
})
