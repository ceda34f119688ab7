/**
 * When the artifact keeper reads the mesh's artifacts (replication-keeper.ts, `DueRead`): where the
 * backend says when artifact_index ops were stored, its rounds read them again only then (or after
 * `rereadMs`) and after its own pins, not every round; a new artifact is still pinned as soon as its
 * ops arrive. The artifacts port is a stand-in: the list it answers and the pins asked of it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ArtifactView } from '../../../host/artifacts/artifacts-port.ts'
import { ReplicationKeeper } from '../../../host/artifacts/replication-keeper.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import type { Artifact, EntryRecord } from '../../../zomes-bindings/index.ts'

const SELF = 'uhCAkself'

function artifactView(cid: string): ArtifactView {
  const entry = { cid, size: 1, replication: 1 } as Artifact
  const artifact = {
    action_hash: `uhCkk${cid}`,
    author: 'uhCAkfar',
    timestamp: 0,
    entry,
  } as EntryRecord<Artifact>
  return { artifact, holders: [] }
}

let keeper: ReplicationKeeper | null = null
afterEach(async () => {
  await keeper?.stop()
  keeper = null
})

describe('the artifact keeper where stored ops are told', () => {
  it('reads the artifacts only when told, and pins a new one as soon as it is told', async () => {
    const held: ArtifactView[] = []
    const pinned: string[] = []
    let lists = 0
    let stored: (() => void) | null = null
    keeper = new ReplicationKeeper({
      artifacts: {
        agent: SELF,
        list: async () => {
          lists++
          return [...held]
        },
        // Its pin commitment makes this peer a holder, as the real one does.
        pin: async (cid: string) => {
          pinned.push(cid)
          const view = held.find((v) => v.artifact.entry.cid === cid)
          view?.holders.push({ author: SELF } as ArtifactView['holders'][number])
        },
        unpin: async () => {},
        room: () => Number.POSITIVE_INFINITY,
        excess: () => 0,
        replicas: new Set(),
      } as unknown as ConstructorParameters<typeof ReplicationKeeper>[0]['artifacts'],
      alivePeers: async () => [SELF],
      onRecordsStored: (_, listener) => {
        stored = listener
        return () => undefined
      },
      intervalMs: 20,
      rereadMs: 3_600_000,
      logger: silentLogger(),
    })
    await keeper.start()
    // Some twenty rounds with nothing told: the artifacts were read once, at the first.
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(lists).toBe(1)
    held.push(artifactView('bafynew'))
    stored!()
    await expect.poll(() => pinned, { timeout: 1_000 }).toEqual(['bafynew'])
  })
})
