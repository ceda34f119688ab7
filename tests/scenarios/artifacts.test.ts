/**
 * Artifacts across a three-peer mesh in this process: each player runs Helia on its own libp2p node
 * (bitswap beside gossip), as the daemon does, and an ArtifactService over its conductor.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { describe, expect, it } from 'vitest'
import {
  ArtifactMismatchError,
  ContentUnavailableError,
  DiskFullError,
  PinQuotaExceededError,
} from '../../host/artifacts/artifact-errors.ts'
import { ArtifactService, MANUAL_PROVENANCE, parseCid } from '../../host/artifacts/artifact-service.ts'
import { ReplicationKeeper } from '../../host/artifacts/replication-keeper.ts'
import { artifactTaskPayloads } from '../../host/artifacts/task-payloads.ts'
import { rendezvousOrder } from '../../host/interface/rendezvous.ts'
import { startHeliaStore } from '../../host/ipfs/helia-store.ts'
import type { IpfsStore } from '../../host/ipfs/ipfs-store.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { isTerminal } from '../../host/scheduler/scheduler-service.ts'
import { acceptedOutput } from '../../host/scheduler/task-outcome.ts'
import { NO_REQUIREMENTS } from '../../zomes-bindings/index.ts'
import { kuboDeterministicBytes } from '../fixtures/kubo-deterministic-bytes.ts'
import { type Player, runScenario, type Scenario } from './harness.ts'
import { type RunLog, startSchedulerHost } from './scheduler-hosts.ts'

type HeliaIpfs = Awaited<ReturnType<typeof startHeliaStore>>

interface ArtifactPlayer {
  player: Player
  /** Where its IPFS stores live. */
  dir: string
  ipfs: IpfsStore
  artifacts: ArtifactService
}

async function withArtifacts(
  scenario: Scenario,
  players: Player[],
  fn: (peers: ArtifactPlayer[]) => Promise<void>,
) {
  const dir = await mkdtemp(join(tmpdir(), 'ripple-artifacts-'))
  const peers: ArtifactPlayer[] = []
  try {
    for (const player of players) {
      const ipfsDir = join(dir, player.name)
      const ipfs = await startHeliaStore({ libp2p: player.node.libp2p, dir: ipfsDir })
      peers.push({
        player,
        dir: ipfsDir,
        ipfs,
        artifacts: new ArtifactService({
          conductor: player.conductor,
          ipfs,
          fetchIdleTimeoutMs: 3_000,
          // As the daemon wires it.
          onMismatch: (record, err) =>
            player.replication.warrantAuthor(
              'artifact_index',
              record.author,
              record.action_hash,
              `artifact.${err.field}`,
              err.message,
            ),
          logger: silentLogger(),
        }),
      })
    }
    await scenario.shareAllAgents(players)
    await fn(peers)
  } finally {
    for (const p of peers) await p.ipfs.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describe('artifacts on a three-peer mesh', () => {
  it('added on one peer, read with the same bytes on another, pinned by a third', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(3)
      await withArtifacts(scenario, players, async ([alice, bob, carol]) => {
        const bytes = await collect(kuboDeterministicBytes(3 * 1_048_576 + 17, 'ripple-artifacts'))
        const added = await alice!.artifacts.add(kuboDeterministicBytes(bytes.length, 'ripple-artifacts'), {
          name: 'weights.bin',
          replication: 2,
        })
        expect(added.artifact.entry.size).toBe(bytes.length)
        expect(added.holders.map((h) => h.author)).toEqual([alice!.player.agentPubKey])
        await scenario.dhtSync(players, 'artifact_index')

        const read = await bob!.artifacts.read(added.artifact.entry.cid)
        expect((await collect(read.bytes)).equals(bytes)).toBe(true)

        const pinned = await carol!.artifacts.pin(added.artifact.entry.cid)
        expect(pinned.holders.map((h) => h.author).sort()).toEqual(
          [alice!.player.agentPubKey, carol!.player.agentPubKey].sort(),
        )
      })
    })
  })
})

describe('artifact faults on a mesh', () => {
  it('refuses wrong bytes, times out on content nobody has, and lets only the holder release a pin', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(2)
      await withArtifacts(scenario, players, async ([alice, bob]) => {
        const once = async function* (text: string) {
          yield new TextEncoder().encode(text)
        }
        // Alice registers an artifact whose sha256 is not that of its bytes.
        const cid = await alice!.ipfs.add(once('the real bytes'), { profile: 'unixfs-v1-2025' })
        await alice!.ipfs.pin(cid)
        const lie = await alice!.player.conductor.callZome('artifact_index', 'register_artifact', {
          cid: cid.toString(),
          size: 14,
          name: 'lie.txt',
          mime_type: 'text/plain',
          sha256: '0'.repeat(64),
          provenance: MANUAL_PROVENANCE,
          replication: 2,
        })
        // A CID registered but held by nobody.
        const ghost = await collect(once('nobody holds this'))
        const ghostCid = await bob!.ipfs.add(once('nobody holds this'), { profile: 'unixfs-v1-2025' })
        await bob!.ipfs.gc()
        await alice!.player.conductor.callZome('artifact_index', 'register_artifact', {
          cid: ghostCid.toString(),
          size: ghost.length,
          name: 'ghost.txt',
          mime_type: 'text/plain',
          sha256: createHash('sha256').update(ghost).digest('hex'),
          provenance: MANUAL_PROVENANCE,
          replication: 1,
        })
        await scenario.dhtSync(players, 'artifact_index')

        const unknown = await bob!.artifacts.read(ghostCid.toString())
        await expect(collect(unknown.bytes)).rejects.toThrow(ContentUnavailableError)

        // Alice's own commitment: Bob cannot release it.
        const pin = await alice!.player.conductor.callZome('artifact_index', 'commit_pin', {
          cid: cid.toString(),
          artifact: lie.action_hash,
          holder: alice!.player.agentPubKey,
        })
        await scenario.dhtSync(players, 'artifact_index')
        await expect(
          bob!.player.conductor.callZome('artifact_index', 'release_pin', pin.action_hash),
        ).rejects.toMatchObject({ name: 'InvalidEntryError' })

        // The lie: Bob refuses the bytes, never pins them, and warrants Alice (the CID vouches for
        // the bytes, so the Artifact's sha256 is her word against them).
        const read = await bob!.artifacts.read(cid.toString())
        await expect(collect(read.bytes)).rejects.toThrow(ArtifactMismatchError)
        await expect(bob!.artifacts.pin(cid.toString())).rejects.toThrow(/sha256/)
        expect(await bob!.ipfs.isPinned(cid)).toBe(false)
        expect((await bob!.artifacts.show(cid.toString())).holders.map((h) => h.author)).toEqual([
          alice!.player.agentPubKey,
        ])
        expect(bob!.player.replication.isWarranted(alice!.player.agentPubKey)).toBe(true)
        expect(bob!.player.replication.listWarrants()).toContainEqual(
          expect.objectContaining({
            agent: alice!.player.agentPubKey,
            rule: 'artifact.sha256',
            action_hash: lie.action_hash,
          }),
        )

        // Only Alice releases her commitment.
        const after = await alice!.artifacts.unpin(cid.toString())
        expect(after.holders).toEqual([])
        expect(await alice!.ipfs.isPinned(cid)).toBe(false)
      })
    })
  })
})

describe('replication on a three-peer mesh', () => {
  it('brings an artifact to 2 holders, and back to 2 after a holder goes offline', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(3)
      await withArtifacts(scenario, players, async (peers) => {
        // Stands in for the registry's view (who is past the network's offline timeout); the daemon
        // feeds the keeper from the registry.
        const alive = new Set(players.map((p) => p.agentPubKey))
        const keepers = peers.map(
          (p) =>
            new ReplicationKeeper({
              artifacts: p.artifacts,
              alivePeers: async () => [...alive],
              onRecordsStored: p.player.onRecordsStored,
              intervalMs: 300,
              logger: silentLogger(),
            }),
        )
        for (const k of keepers) await k.start()
        try {
          const [alice] = peers
          const added = await alice!.artifacts.add(kuboDeterministicBytes(2 * 1_048_576 + 5, 'replicate'), {
            name: 'dataset.bin',
            replication: 2,
          })
          const cid = added.artifact.entry.cid
          const holders = async (by: ArtifactPlayer) =>
            (await by.artifacts.show(cid)).holders.map((h) => h.author)
          let second: ArtifactPlayer | undefined
          let third: ArtifactPlayer | undefined
          // Two peers that replicated before each saw the other's copy settle back to 2 (the surplus
          // copy is released): wait for the settled state, not the first moment 2 holders show.
          await waitUntilAsync(20_000, async () => {
            const held = await holders(alice!)
            if (held.length !== 2) return false
            second = peers.find((p) => p !== alice && held.includes(p.player.agentPubKey))
            third = peers.find((p) => p !== alice && p !== second)
            return third !== undefined && !(await third.ipfs.isPinned(parseCid(cid)))
          })
          if (second === undefined || third === undefined) throw new Error('no second holder')

          // The second holder goes away for good: the third restores the count.
          await keepers[peers.indexOf(second)]!.stop()
          await second.ipfs.stop()
          await second.player.shutdown()
          alive.delete(second.player.agentPubKey)
          const restorer = third
          await waitUntilAsync(20_000, async () =>
            (await holders(alice!)).includes(restorer.player.agentPubKey),
          )
          expect(await third.ipfs.isPinned(parseCid(cid))).toBe(true)
          const read = await third.artifacts.read(cid)
          expect(
            (await collect(read.bytes)).equals(
              await collect(kuboDeterministicBytes(2 * 1_048_576 + 5, 'replicate')),
            ),
          ).toBe(true)
        } finally {
          for (const k of keepers) await k.stop()
        }
      })
    })
  })
})

describe('a lowered quota', () => {
  it('releases what no longer fits, most copied first; another peer restores the count', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(3)
      await withArtifacts(scenario, players, async ([alice, bob, carol]) => {
        const small = await alice!.artifacts.add(kuboDeterministicBytes(1_048_576, 'q-small'), {
          name: 'small.bin',
          replication: 2,
        })
        const large = await alice!.artifacts.add(kuboDeterministicBytes(1_572_864, 'q-large'), {
          name: 'large.bin',
          replication: 2,
        })
        await scenario.dhtSync(players, 'artifact_index')
        await bob!.artifacts.pin(small.artifact.entry.cid)
        await bob!.artifacts.pin(large.artifact.entry.cid)
        await scenario.dhtSync(players, 'artifact_index')

        // Bob comes back with 1.2 MiB of quota: 2.5 MiB kept is 1.3 MiB too much.
        const lowered = new ArtifactService({
          conductor: bob!.player.conductor,
          ipfs: bob!.ipfs,
          maxBytes: 1_258_291,
          logger: silentLogger(),
        })
        const alive = async () => players.map((p) => p.agentPubKey)
        const keeper = (p: ArtifactPlayer, artifacts: ArtifactService) =>
          new ReplicationKeeper({
            artifacts,
            alivePeers: alive,
            onRecordsStored: p.player.onRecordsStored,
            intervalMs: 300,
            graceMs: 600,
            logger: silentLogger(),
          })
        const keepers = [keeper(bob!, lowered), keeper(carol!, carol!.artifacts)]
        for (const k of keepers) await k.start()
        try {
          const holders = async (cid: string) =>
            (await alice!.artifacts.show(cid)).holders.map((h) => h.author).sort()
          await waitUntilAsync(20_000, async () => {
            const large2 = await holders(large.artifact.entry.cid)
            return !large2.includes(bob!.player.agentPubKey) && large2.length === 2
          })
          expect(await holders(large.artifact.entry.cid)).toEqual(
            [alice!.player.agentPubKey, carol!.player.agentPubKey].sort(),
          )
          expect(await holders(small.artifact.entry.cid)).toContain(bob!.player.agentPubKey)
          // The commitment goes before the blocks do, so the unpin may land a moment later.
          await waitUntilAsync(
            5_000,
            async () => !(await bob!.ipfs.isPinned(parseCid(large.artifact.entry.cid))),
          )
          expect(lowered.excess(await lowered.list())).toBe(0)
        } finally {
          for (const k of keepers) await k.stop()
        }
      })
    })
  })
})

describe('surplus replicas', () => {
  it('peers that each did not see the other both replicate; once they do, the surplus copy is released', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(3)
      await withArtifacts(scenario, players, async (peers) => {
        const [alice, bob, carol] = players.map((p) => p.agentPubKey)
        // Bob and Carol have not seen each other's heartbeat yet: each thinks it is the only candidate.
        const views = new Map([
          [bob!, new Set([alice!, bob!])],
          [carol!, new Set([alice!, carol!])],
          [alice!, new Set([alice!, bob!, carol!])],
        ])
        const keepers = peers.map(
          (p) =>
            new ReplicationKeeper({
              artifacts: p.artifacts,
              alivePeers: async () => [...views.get(p.player.agentPubKey)!],
              onRecordsStored: p.player.onRecordsStored,
              intervalMs: 300,
              logger: silentLogger(),
            }),
        )
        for (const k of keepers) await k.start()
        try {
          const added = await peers[0]!.artifacts.add(kuboDeterministicBytes(300_000, 'surplus'), {
            name: 'twice.bin',
            replication: 2,
          })
          const cid = added.artifact.entry.cid
          const holders = async () => (await peers[0]!.artifacts.show(cid)).holders.map((h) => h.author)
          await waitUntilAsync(20_000, async () => (await holders()).length === 3)

          for (const view of views.values()) for (const agent of [alice!, bob!, carol!]) view.add(agent)
          const [keeper, surplus] = rendezvousOrder(cid, [bob!, carol!])
          await waitUntilAsync(20_000, async () => (await holders()).length === 2)
          expect((await holders()).sort()).toEqual([alice!, keeper!].sort())
          const released = peers.find((p) => p.player.agentPubKey === surplus)!
          // The commitment is released before the blocks are unpinned (never promise what is not kept),
          // so the unpin may land a moment after the holders list shrinks.
          await waitUntilAsync(5_000, async () => !(await released.ipfs.isPinned(parseCid(cid))))
          // Two is what was asked: nobody takes it again.
          await new Promise((resolve) => setTimeout(resolve, 1_000))
          expect(await holders()).toHaveLength(2)
        } finally {
          for (const k of keepers) await k.stop()
        }
      })
    })
  })
})

async function waitUntilAsync(timeoutMs: number, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('tasks through CIDs', () => {
  it('an input and output above the inline limit travel sealed on IPFS: a bystander fetching their CIDs reads neither, the assignee ran it and the requester reads the output', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(3)
      await withArtifacts(scenario, players, async ([alice, bob, carol]) => {
        const log: RunLog = { runs: [] }
        const hosts = [
          await startSchedulerHost(alice!.player, {
            name: 'alice',
            workers: false,
            log,
            payloads: artifactTaskPayloads(alice!.artifacts),
          }),
          await startSchedulerHost(bob!.player, {
            name: 'bob',
            log,
            payloads: artifactTaskPayloads(bob!.artifacts),
          }),
        ]
        try {
          // Over 2 MiB of text: above what a private payload (a signal between the two parties) carries.
          // Input and output differ in text, so each is looked for apart.
          const secret = 'prompt-only-alice-and-bob-read '
          const message = secret.repeat(Math.ceil((2 * 1024 * 1024 + 1024) / secret.length))
          const requester = hosts[0]!.scheduler
          const ref = await requester.submit(
            {
              kind: 'echo',
              requirements: NO_REQUIREMENTS,
              lease_ms: 20_000,
              deadline: (Date.now() + 60_000) * 1000,
              max_attempts: 2,
              fan_out: 1,
            },
            { message, delay_ms: 1 },
          )
          let view = await requester.view(ref.action_hash)
          await waitUntilAsync(40_000, async () => {
            view = await requester.view(ref.action_hash)
            return isTerminal(view.state.status)
          })
          expect(view.state.status).toBe('done')
          expect(view.state.receipt?.entry).toMatchObject({ accepted: true, reason: 'output hash verified' })
          const carried = view.state.task.entry
          expect(carried.input_cid).toMatch(/^baf/)
          expect(carried.input_bytes).toBeGreaterThan(2 * 1024 * 1024)
          expect(log.runs).toEqual([{ host: 'bob', input: { message, delay_ms: 1 } }])
          const result = view.state.results[0]!
          const outputCid = result.entry.output_cid!
          expect(outputCid).toMatch(/^baf/)
          // The requester reads the output whole: opened with the key bob gave it.
          expect(acceptedOutput(view)).toEqual({ message })
          expect(view.payloads.input).toEqual({ message, delay_ms: 1 })

          await scenario.dhtSync(players, 'artifact_index')
          const output = await alice!.artifacts.show(outputCid)
          expect(output.artifact.author).toBe(bob!.player.agentPubKey)
          expect(output.artifact.entry).toMatchObject({
            name: 'echo-output.sealed',
            mime_type: 'application/octet-stream',
          })
          expect(output.artifact.entry.provenance).toEqual({
            task: ref.action_hash,
            result: result.action_hash,
            input_cids: [carried.input_cid],
            tool: 'echo',
            model: null,
          })
          // The Result and the Task name the key records the two parties hold, not the sealed bytes.
          const keyRecord = await alice!.player.conductor.callZome(
            'resource_mesh',
            'get_payload',
            result.entry.output_hash,
          )
          expect(keyRecord?.content).toMatchObject({ cid: outputCid })
          expect(
            (await alice!.player.conductor.callZome('resource_mesh', 'get_payload', carried.input_hash))
              ?.content,
          ).toMatchObject({ cid: carried.input_cid })

          // Carol, a member in neither part, fetches both CIDs: sealed bytes, neither the prompt nor the answer.
          for (const cid of [carried.input_cid!, outputCid]) {
            const bytes = await collect((await carol!.artifacts.read(cid)).bytes)
            expect(bytes.length).toBeGreaterThan(2 * 1024 * 1024)
            expect(bytes.includes(secret)).toBe(false)
            expect(bytes.includes('message')).toBe(false)
          }
          for (const hash of [carried.input_hash, result.entry.output_hash])
            expect(await carol!.player.conductor.callZome('resource_mesh', 'get_payload', hash)).toBeNull()
        } finally {
          for (const h of hosts) await h.stop()
        }
      })
    })
  })
})

describe('storage faults', () => {
  it('a block that does not match its CID is refused; a quota refuses new pins and keeps old ones; a cut transfer resumes from the blocks kept', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(2)
      await withArtifacts(scenario, players, async ([alice, bob]) => {
        const size = 3 * 1_048_576
        const big = await alice!.artifacts.add(kuboDeterministicBytes(size, 'resume'), { name: 'big.bin' })
        const small = await alice!.artifacts.add(kuboDeterministicBytes(1000, 'small'), { name: 'small.bin' })
        await scenario.dhtSync(players, 'artifact_index')

        // Quota: bob may keep 2 MiB. The small one fits; the 3 MiB one is refused, the small one stays.
        const quota = new ArtifactService({
          conductor: bob!.player.conductor,
          ipfs: bob!.ipfs,
          maxBytes: 2 * 1_048_576,
          fetchIdleTimeoutMs: 3_000,
          logger: silentLogger(),
        })
        await quota.pin(small.artifact.entry.cid)
        await expect(quota.pin(big.artifact.entry.cid)).rejects.toThrow(PinQuotaExceededError)
        expect(await bob!.ipfs.isPinned(parseCid(small.artifact.entry.cid))).toBe(true)
        expect(await bob!.ipfs.isPinned(parseCid(big.artifact.entry.cid))).toBe(false)

        // A transfer cut after its first MiB: the blocks that arrived stay in bob's store across a
        // restart of his IPFS, and the next read completes.
        const first = await bob!.artifacts.read(big.artifact.entry.cid)
        let seen = 0
        for await (const chunk of first.bytes) {
          seen += chunk.byteLength
          if (seen >= 1_048_576) break
        }
        expect(seen).toBeLessThan(size)
        const helia = (bob!.ipfs as HeliaIpfs).helia
        let kept = 0
        for await (const _ of helia.blockstore.getAll()) kept++
        expect(kept).toBeGreaterThan(0)
        await bob!.ipfs.stop()
        const reopened = await startHeliaStore({ libp2p: bob!.player.node.libp2p, dir: bob!.dir })
        bob!.ipfs = reopened
        const again = new ArtifactService({
          conductor: bob!.player.conductor,
          ipfs: reopened,
          logger: silentLogger(),
        })
        const rest = await again.read(big.artifact.entry.cid)
        expect(
          (await collect(rest.bytes)).equals(await collect(kuboDeterministicBytes(size, 'resume'))),
        ).toBe(true)

        // Alice's copy of a block of the small file is corrupted on disk: bob refuses it (the hash
        // does not match the CID) and the read fails instead of returning wrong bytes.
        const lie = await alice!.ipfs.add(
          (async function* () {
            yield new TextEncoder().encode('honest bytes')
          })(),
          { profile: 'unixfs-v1-2025' },
        )
        await alice!.ipfs.pin(lie)
        // Straight into the files under Helia (its own put skips a block it already has).
        const disk = new FsBlockstore(join(alice!.dir, 'blocks'))
        await disk.open()
        await disk.put(lie, new TextEncoder().encode('forged bytes'))
        await disk.close()
        expect(Buffer.from(await collect(alice!.ipfs.cat(lie, { offline: true }))).toString()).toBe(
          'forged bytes',
        )
        await expect(collect(reopened.cat(lie, { signal: AbortSignal.timeout(3_000) }))).rejects.toThrow()
        expect(await reopened.isPinned(lie)).toBe(false)
      })
    })
  })
})

/** Root can mount a small tmpfs: a disk that really fills (CI runs as root here). */
const canMount = process.getuid?.() === 0 && existsSync('/usr/bin/mount')

describe('a full disk', () => {
  it.skipIf(!canMount)('refuses a new pin with a clear error and keeps what it already holds', async () => {
    const mountPoint = await mkdtemp(join(tmpdir(), 'ripple-full-disk-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint])
    try {
      await runScenario(async (scenario) => {
        const players = await scenario.addPlayers(2)
        await withArtifacts(scenario, players, async ([alice, bob]) => {
          const small = await alice!.artifacts.add(kuboDeterministicBytes(512 * 1024, 'fits'), {
            name: 'fits.bin',
          })
          const big = await alice!.artifacts.add(kuboDeterministicBytes(6 * 1_048_576, 'overflows'), {
            name: 'overflows.bin',
          })
          await scenario.dhtSync(players, 'artifact_index')
          // Bob's blocks live on the 3 MiB disk.
          await bob!.ipfs.stop()
          bob!.ipfs = await startHeliaStore({ libp2p: bob!.player.node.libp2p, dir: mountPoint })
          const onDisk = new ArtifactService({
            conductor: bob!.player.conductor,
            ipfs: bob!.ipfs,
            fetchIdleTimeoutMs: 3_000,
            logger: silentLogger(),
          })
          await onDisk.pin(small.artifact.entry.cid)
          const refused = await onDisk.pin(big.artifact.entry.cid).catch((err: Error) => err)
          expect(refused).toBeInstanceOf(DiskFullError)
          expect((refused as Error).message).toMatch(/disk .*full/)
          expect(await bob!.ipfs.isPinned(parseCid(big.artifact.entry.cid))).toBe(false)
          const holders = (await onDisk.show(big.artifact.entry.cid)).holders.map((h) => h.author)
          expect(holders).not.toContain(bob!.player.agentPubKey)
          // What it held before is still pinned, promised and readable from its own blocks.
          expect(await bob!.ipfs.isPinned(parseCid(small.artifact.entry.cid))).toBe(true)
          const kept = await collect(bob!.ipfs.cat(parseCid(small.artifact.entry.cid), { offline: true }))
          expect(kept.equals(await collect(kuboDeterministicBytes(512 * 1024, 'fits')))).toBe(true)
          // Adding new content to the full disk is refused the same way.
          const bobAdds = await onDisk
            .add(kuboDeterministicBytes(4 * 1_048_576, 'bob-adds'), { name: 'too-big.bin' })
            .catch((err: Error) => err)
          expect(bobAdds).toBeInstanceOf(DiskFullError)
          expect((await onDisk.list()).map((v) => v.artifact.entry.name)).not.toContain('too-big.bin')
          // The partial blocks of the refused pin are gone again: the disk has room for more.
          const after = await alice!.artifacts.add(kuboDeterministicBytes(1_048_576, 'after'), {
            name: 'after.bin',
          })
          await scenario.dhtSync(players, 'artifact_index')
          await onDisk.pin(after.artifact.entry.cid)
          expect(await bob!.ipfs.isPinned(parseCid(after.artifact.entry.cid))).toBe(true)
        })
      })
    } finally {
      execFileSync('umount', ['-l', mountPoint])
      await rm(mountPoint, { recursive: true, force: true })
    }
  })
})
