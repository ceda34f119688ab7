/**
 * A model split over peers, on the data plane the daemons use: libp2p nodes of one network on
 * loopback, each worker an RpcWorker (ggml-rpc-server with its tensor cache) behind the mesh's RPC
 * tunnel, the head's llama-server with `--rpc` over the tunnels' ports (its own share on its own
 * worker, straight on loopback). A generated F16 model whose feed-forward tensors are over ggml's
 * 10 MiB hashing threshold, so the workers' caches matter. Measured: decode tokens/s solo (one
 * llama-server, all threads) and split over 2 and 3 peers (one thread each), bytes the tunnels carry
 * per generated token, and the load time with cold caches and then, every worker restarted, with warm
 * ones (the weights are then sent as hashes). Run: `npm run bench split`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { agentOfPeerB64 } from '../host/identity/peer-agent.ts'
import { EngineBackends } from '../host/inference/engine/engine-backends.ts'
import { LlamaServerProcess } from '../host/inference/engine/llama-server-process.ts'
import { writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { createLogger } from '../host/log/logger.ts'
import type { RippleNode } from '../host/net/create-node.ts'
import { libp2pAgentPort } from '../host/node/agent-port.ts'
import { RpcTunnel, serveRpcTunnel } from '../host/split/rpc-tunnel.ts'
import { RpcWorker } from '../host/split/rpc-worker.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from '../tests/unit/net/net-fixtures.ts'
import { round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = {
  embedding: 1024,
  blocks: 4,
  feedForward: 6144,
  heads: 16,
  type: 'f16' as const,
  name: 'split bench',
}
const TOKENS = 64
const BUILD = 'bench'

interface Run {
  loadMs: number
  tokS: number
  /** Bytes the tunnels carried during the generation alone. */
  genBytes: number
}

export default async function run(): Promise<BenchReport> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-split-'))
  const logger = createLogger('warn')
  const backend = await new EngineBackends({ logger }).active()
  const network = testNetwork()
  const nodes: RippleNode[] = []
  const workers: RpcWorker[] = []
  try {
    const model = join(root, 'model.gguf')
    await writeLlamaModel(model, MODEL)
    const worker = (name: string) => {
      const w = new RpcWorker({
        dir: async () => backend,
        cacheDir: join(root, `${name}-cache`),
        threads: 1,
        logger,
      })
      workers.push(w)
      return w
    }
    // Two remote peers, each serving its worker over the tunnel; the head reaches them as a member.
    const remotes: { node: RippleNode }[] = []
    for (const name of ['w1', 'w2']) {
      const node = await loopbackNode({ network, start: false })
      await serveRpcTunnel(libp2pAgentPort(node), worker(name), async () => BUILD, logger)
      await node.start()
      nodes.push(node)
      remotes.push({ node })
    }
    const head = await loopbackNode({
      network,
      peers: remotes.flatMap((r) => r.node.multiaddrs().map(String)),
    })
    nodes.push(head)
    await waitFor(
      'the head connected',
      () =>
        connectedTo(
          head,
          remotes.map((r) => r.node),
        ),
      30_000,
    )
    const own = worker('head')

    const serve = async (args: string[], carried: () => number = () => 0): Promise<Run> => {
      const startedAt = performance.now()
      const server = await LlamaServerProcess.start({
        dir: backend.dir,
        env: backend.env,
        args: ['-m', model, '-c', '1024', '-np', '1', '--no-warmup', ...args],
      })
      const loadMs = performance.now() - startedAt
      const before = carried()
      try {
        const response = await fetch(`${server.url}/completion`, {
          method: 'POST',
          headers: server.headers,
          body: JSON.stringify({
            prompt: 'The quick brown fox',
            n_predict: TOKENS,
            temperature: 0,
            cache_prompt: false,
          }),
        })
        const body = (await response.json()) as { timings: { predicted_per_second: number } }
        return {
          loadMs: round(loadMs),
          tokS: round(body.timings.predicted_per_second),
          genBytes: carried() - before,
        }
      } finally {
        await server.stop()
      }
    }
    const split = async (count: 2 | 3) => {
      const tunnels = await Promise.all(
        remotes
          .slice(0, count - 1)
          .map((r) => RpcTunnel.open(libp2pAgentPort(head), agentOfPeerB64(r.node.peerId)!, BUILD)),
      )
      // The head's own worker may have restarted (on another port) between runs.
      const args = async () => {
        const ports = [await own.port(), ...tunnels.map((t) => t.port)]
        return ['-t', '1', '-ngl', '999', '--rpc', ports.map((p) => `127.0.0.1:${p}`).join(',')]
      }
      const carried = () => tunnels.reduce((sum, t) => sum + t.bytes, 0)
      try {
        const cold = await serve(await args(), carried)
        // Every worker restarts: what it kept is its tensor cache on disk, not its memory.
        for (const w of workers) await w.stop()
        const loadedBytes = carried() - cold.genBytes
        const warm = await serve(await args(), carried)
        const warmLoadBytes = carried() - loadedBytes - cold.genBytes - warm.genBytes
        return { cold, warm, loadedBytes, warmLoadBytes }
      } finally {
        for (const t of tunnels) await t.close()
      }
    }
    const threads = availableParallelism()
    const solo = await serve(['-t', String(threads), '-ngl', '0'])
    const two = await split(2)
    const three = await split(3)
    const MiB = 1024 ** 2
    const rows = [
      {
        path: `solo, ${threads} threads`,
        'decode tok/s': solo.tokS,
        'vs solo': 1,
        'load ms (cold)': solo.loadMs,
      },
      ...(
        [
          ['split over 2 peers, 1 thread each', two],
          ['split over 3 peers, 1 thread each', three],
        ] as const
      ).map(([path, r]) => ({
        path,
        'decode tok/s': r.warm.tokS,
        'vs solo': Math.round((r.warm.tokS / solo.tokS) * 1000) / 1000,
        'load ms (cold)': r.cold.loadMs,
        'load ms (warm caches)': r.warm.loadMs,
        'MiB sent at load (cold / warm)': `${round(r.loadedBytes / MiB)} / ${round(r.warmLoadBytes / MiB)}`,
        'bytes per token': Math.round(r.warm.genBytes / TOKENS),
      })),
    ]
    return {
      name: 'split',
      note:
        `generated ${MODEL.blocks}-block F16 model (embedding ${MODEL.embedding}, ff ${MODEL.feedForward}), ` +
        `${TOKENS} tokens greedy, backend ${backend.candidate.id}, tunnels over libp2p on loopback; load ${loadavg()[0]?.toFixed(2)}`,
      rows,
      figures: {
        solo_tok_s: solo.tokS,
        split2_tok_s: two.warm.tokS,
        split3_tok_s: three.warm.tokS,
        split2_vs_solo: Math.round((two.warm.tokS / solo.tokS) * 1000) / 1000,
        split3_vs_solo: Math.round((three.warm.tokS / solo.tokS) * 1000) / 1000,
        split2_load_cold_ms: two.cold.loadMs,
        split2_load_warm_ms: two.warm.loadMs,
        split3_load_cold_ms: three.cold.loadMs,
        split3_load_warm_ms: three.warm.loadMs,
        split2_load_cold_mib: round(two.loadedBytes / MiB),
        split2_load_warm_mib: round(two.warmLoadBytes / MiB),
        split2_bytes_per_token: Math.round(two.warm.genBytes / TOKENS),
        split3_bytes_per_token: Math.round(three.warm.genBytes / TOKENS),
      },
    }
  } finally {
    for (const w of workers) await w.stop()
    await stopAll(nodes)
    await rm(root, { recursive: true, force: true })
  }
}
