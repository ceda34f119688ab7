/**
 * The split's RPC tunnel between real libp2p nodes on loopback, to a real ggml-rpc-server: a member
 * of the mesh gets a loopback port that llama-server's `--rpc` uses (its answer is the one llama-server
 * gives on its own); a stranger on another network gets nothing, and the rpc server is never even
 * started for it; a revoked (denied) member is refused; another engine build is refused, saying so.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentOfPeerB64 } from '../../../host/identity/peer-agent.ts'
import { EngineBackends } from '../../../host/inference/engine/engine-backends.ts'
import { LlamaServerProcess } from '../../../host/inference/engine/llama-server-process.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { libp2pAgentPort } from '../../../host/node/agent-port.ts'
import { RPC_TUNNEL_PROTOCOL, RpcTunnel, serveRpcTunnel } from '../../../host/split/rpc-tunnel.ts'
import { RpcWorker } from '../../../host/split/rpc-worker.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from '../net/net-fixtures.ts'

const BUILD = 'test-build/rpc7.0.0'
let dir: string
let worker: RippleNode
let head: RippleNode
let stranger: RippleNode
let rpc: RpcWorker
let started = 0
/** The worker's agent key: the tunnel is opened to an agent, which its peer id is. */
const workerAgent = () => agentOfPeerB64(worker.peerId)!
const backends = new EngineBackends({ logger: silentLogger(), devices: { nvidia: false, vulkan: false } })

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-rpc-tunnel-'))
  const network = testNetwork()
  worker = await loopbackNode({ network, start: false })
  rpc = new RpcWorker({
    dir: async () => {
      started++
      const { dir: backendDir, env } = await backends.active()
      return { dir: backendDir, env }
    },
    cacheDir: join(dir, 'rpc-cache'),
    threads: 1,
    logger: silentLogger(),
  })
  await serveRpcTunnel(libp2pAgentPort(worker), rpc, async () => BUILD, silentLogger())
  await worker.start()
  head = await loopbackNode({ network, peers: worker.multiaddrs().map(String) })
  stranger = await loopbackNode({
    network: { ...testNetwork(), name: 'elsewhere' },
    peers: worker.multiaddrs().map(String),
  })
  await waitFor('the head connected', () => connectedTo(head, [worker]) && connectedTo(worker, [head]))
}, 60_000)
afterAll(async () => {
  await rpc?.stop()
  await stopAll([head, worker, stranger].filter(Boolean))
  await rm(dir, { recursive: true, force: true })
})

describe('the RPC tunnel', { timeout: 60_000 }, () => {
  it('gives a stranger on another network nothing, and never starts the rpc server for it', async () => {
    const protocol = worker.identity.protocol(RPC_TUNNEL_PROTOCOL)
    const stream = await stranger.libp2p.dialProtocol(worker.peerId, protocol).catch(() => null)
    const received: number[] = []
    try {
      stream?.send(new TextEncoder().encode('\u0014{"build":"test-build/rpc7.0.0"}'))
      for await (const chunk of stream ?? []) received.push(chunk.byteLength)
    } catch {
      // Closed or reset by the worker: the expected end.
    }
    expect(received).toEqual([])
    expect(started).toBe(0)
  })

  it("carries llama-server's RPC to the worker: the same answer as llama-server alone", async () => {
    const model = join(dir, 'model.gguf')
    await writeLlamaModel(model, { ...TINY_MODEL, blocks: 4 })
    const backend = await backends.active()
    const ask = async (args: string[]) => {
      const server = await LlamaServerProcess.start({
        dir: backend.dir,
        env: backend.env,
        args: ['-m', model, '-c', '512', '-np', '1', '-t', '1', ...args],
      })
      try {
        const response = await fetch(`${server.url}/completion`, {
          method: 'POST',
          headers: server.headers,
          body: JSON.stringify({ prompt: 'Hello there', n_predict: 16, temperature: 0, top_k: 0, min_p: 0 }),
        })
        return ((await response.json()) as { content: string }).content
      } finally {
        await server.stop()
      }
    }
    const tunnel = await RpcTunnel.open(libp2pAgentPort(head), workerAgent(), BUILD)
    try {
      const split = await ask(['-ngl', '999', '--rpc', `127.0.0.1:${tunnel.port}`])
      expect(split).toBe(await ask(['-ngl', '0']))
      expect(tunnel.bytes).toBeGreaterThan(500_000)
      expect(tunnel.broken).toBeNull()
      expect(started).toBe(1)
    } finally {
      await tunnel.close()
    }
  })

  it('refuses a head on another engine build, saying which side to update', async () => {
    await expect(
      RpcTunnel.open(libp2pAgentPort(head), workerAgent(), 'other-build/rpc6.0.0'),
    ).rejects.toThrow(
      /split worker uhCAk\S+: this worker runs engine build test-build\/rpc7\.0\.0, the head runs other-build\/rpc6\.0\.0.*update/,
    )
  })

  it('refuses a revoked member', async () => {
    await worker.deny(head.peerId)
    await expect(RpcTunnel.open(libp2pAgentPort(head), workerAgent(), BUILD)).rejects.toMatchObject({
      name: 'TunnelRefusedError',
    })
  })
})
