/**
 * A read of a CID while this peer's replication keeper is fetching the same CID (issue 24: `ripple
 * artifact get` stalled 20 s behind its own peer's replication). Two peers in this process, each with
 * Helia on its own libp2p node over loopback, as the daemon runs them; the reader shares the keeper's
 * fetch rather than racing it for the same blocks.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { ArtifactService } from '../../host/artifacts/artifact-service.ts'
import { ReplicationKeeper } from '../../host/artifacts/replication-keeper.ts'
import { startHeliaStore } from '../../host/ipfs/helia-store.ts'
import type { IpfsStore } from '../../host/ipfs/ipfs-store.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { kuboDeterministicBytes } from '../fixtures/kubo-deterministic-bytes.ts'
import { runScenario, waitUntil } from './harness.ts'

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describe('a read racing the replication of the same CID', () => {
  it('shares the fetch in flight: one network fetch, the bytes, and no stall', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob] = await scenario.addPlayers(2)
      const dir = await mkdtemp(join(tmpdir(), 'ripple-artifact-race-'))
      const stores: IpfsStore[] = []
      // Cats of the whole file are network fetches; a reader catching up from the store names a length.
      const fetched: string[] = []
      const service = async (name: string, player: typeof alice) => {
        const ipfs = await startHeliaStore({ libp2p: player!.node.libp2p, dir: join(dir, name) })
        stores.push(ipfs)
        const counted: IpfsStore = {
          ...ipfs,
          cat: (cid, options) => {
            if (options?.length === undefined && name === 'bob') fetched.push(cid.toString())
            return ipfs.cat(cid, options)
          },
        }
        return new ArtifactService({ conductor: player!.conductor, ipfs: counted, logger: silentLogger() })
      }
      try {
        const [aliceArtifacts, bobArtifacts] = [await service('alice', alice), await service('bob', bob)]
        await scenario.shareAllAgents([alice!, bob!])
        const keeper = new ReplicationKeeper({
          artifacts: bobArtifacts,
          alivePeers: async () => [alice!.agentPubKey, bob!.agentPubKey],
          // Woken by hand below, so the read is issued while its pin is in flight.
          intervalMs: 60_000,
          logger: silentLogger(),
        })
        const bytes = await collect(kuboDeterministicBytes(1_048_576, 'race'))
        const added = await aliceArtifacts.add(kuboDeterministicBytes(bytes.length, 'race'), {
          name: 'one-mib.bin',
          replication: 2,
        })
        const cid = added.artifact.entry.cid
        await scenario.dhtSync([alice!, bob!], 'artifact_index')

        const replicating = keeper.round()
        await waitUntil(5_000, () => fetched.includes(cid))
        const startedAt = performance.now()
        const read = await bobArtifacts.read(cid)
        expect((await collect(read.bytes)).equals(bytes)).toBe(true)
        const tookMs = performance.now() - startedAt
        await replicating

        expect(fetched.filter((c) => c === cid)).toHaveLength(1)
        // Issue 24 saw a fixed 20 s stall here (and two fetches stall ~1 s in one process); a
        // shared fetch takes tens of ms on loopback. 5 s leaves room for a loaded 2-core machine.
        expect(tookMs).toBeLessThan(5_000)
        expect((await bobArtifacts.show(cid)).holders.map((h) => h.author)).toContain(bob!.agentPubKey)
      } finally {
        for (const s of stores) await s.stop()
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
})
