/**
 * What this peer keeps for the mesh: artifacts on IPFS (and their replication), and its shards of the
 * shared vector memory.
 */
import { join } from 'node:path'
import { ArtifactService } from '../artifacts/artifact-service.ts'
import { ReplicationKeeper } from '../artifacts/replication-keeper.ts'
import type { IpfsChoice } from '../ipfs/ipfs-choice.ts'
import { openIpfs } from '../ipfs/open-ipfs.ts'
import { ipfsSnapshotStore } from '../memory/ipfs-snapshots.ts'
import { MemoryService } from '../memory/memory-service.ts'
import { agentMemoryTransport } from '../memory/memory-transport.ts'
import { peerEmbedder } from '../memory/peer-embedder.ts'
import { service } from './components.ts'
import { child } from './coordination-services.ts'

/**
 * A Holochain-backed network without a libp2p section has no libp2p node of ours for Helia: without
 * `--ipfs kubo` it runs without artifacts (and says so) rather than not at all.
 */
export function ipfsStore(choice: IpfsChoice = { kind: 'helia' }) {
  return service(
    ['backend', 'dataDir', 'logger'],
    async (c) => {
      // Helia's fs stores write blocks and keys with no mode of their own: everything this daemon creates
      // from here on is its owner's only (the data dir's rule: dirs 0700, files 0600).
      process.umask(0o077)
      if (choice.kind === 'helia' && c.backend.libp2p === null) {
        c.logger.warn('no artifacts on this network without --ipfs kubo[:url] (Helia needs our libp2p node)')
        return null
      }
      return openIpfs(choice, c.backend.libp2p, join(c.dataDir, 'ipfs'))
    },
    'open',
  )
}

export function artifactService(init: { maxBytes?: number }) {
  return service(
    ['ipfs', 'conductor', 'backend', 'logger'],
    ({ ipfs, conductor, backend, logger }) =>
      ipfs &&
      new ArtifactService({
        conductor,
        ipfs,
        maxBytes: init.maxBytes,
        onMismatch: (record, err) =>
          backend.warrantAuthor?.(
            'artifact_index',
            record.author,
            record.action_hash,
            `artifact.${err.field}`,
            err.message,
          ),
        logger: child(logger, 'artifacts'),
      }),
  )
}

/** Keeps every artifact at its replication on live peers. */
export function replicationKeeper() {
  return service(
    ['artifacts', 'peers', 'backend', 'logger'],
    (c) =>
      c.artifacts &&
      new ReplicationKeeper({
        artifacts: c.artifacts,
        alivePeers: async () =>
          (await c.peers.list()).filter((p) => p.status !== 'offline').map((p) => p.agent),
        onRecordsStored: c.backend.onRecordsStored ?? undefined,
        logger: child(c.logger, 'artifacts'),
      }),
    'started',
  )
}

/** The shared memory runs where this peer can reach others directly (a libp2p node of its own). */
export function memoryService() {
  return service(
    ['conductor', 'backend', 'dataDir', 'budget', 'peers', 'requests', 'ipfs', 'report', 'logger'],
    (c) => {
      const agents = c.backend.agents
      if (agents === null) return null
      const memory = new MemoryService({
        conductor: c.conductor,
        transport: agentMemoryTransport(agents),
        dir: join(c.dataDir, 'memory'),
        peers: async () =>
          (await c.peers.list())
            .filter((p) => p.status !== 'offline')
            .map((p) => ({
              agent: p.agent,
              load: (p.load?.cpu_pct ?? 100) / 100,
              capacity: p.capability?.memory.capacity_bytes ?? 0,
            })),
        embed: peerEmbedder(c.requests),
        snapshots: c.ipfs ? ipfsSnapshotStore(c.ipfs) : undefined,
        waitForRecord: c.backend.waitForAction ?? undefined,
        onRecordsStored: c.backend.onRecordsStored ?? undefined,
        logger: child(c.logger, 'memory'),
      })
      c.report.add({ shardsHeld: () => memory.shardsHeld() })
      // The shards' indexes live in RAM: what they take is promised here like a model's memory.
      c.budget.claim('memory shards', () => memory.heldBytes())
      return memory
    },
    'started',
  )
}
