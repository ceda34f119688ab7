/**
 * The simulation's probes: two of routing news (issue 56), how long a far requester takes to find a new
 * runner and how long a requester keeps choosing a runner that died; one of the record (issue 57), how
 * long a get of a far agent's batch from its holders takes. All on the simulated clock.
 */
import { DEFAULT_RECORD_HOLDERS as R } from '../../host/config/network-schema.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import type { MeshPeer } from './mesh-peer.ts'
import { holderGroups } from './record-short.ts'
import { MODELS, type SimMesh, sample } from './sim-mesh.ts'
import type { Outcome } from './sim-peer.ts'

/** A model no simulated peer serves before the probe's runner joins. */
export const NEW_MODEL = 'm-new'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Simulated ms until `holds()` (asked every simulated second), or null after `maxSimMs`. */
async function waitUntil(
  mesh: SimMesh,
  holds: () => Promise<boolean>,
  maxSimMs: number,
): Promise<number | null> {
  const start = performance.now()
  while ((performance.now() - start) * mesh.speedup < maxSimMs) {
    if (await holds()) return (performance.now() - start) * mesh.speedup
    await sleep(mesh.real(1000))
  }
  return null
}

/**
 * A runner of a model nobody served joins, and a requester not connected to it wants that model: the
 * simulated ms until its plan names the runner (its advert found through the directory), or null.
 */
export async function newRunnerProbe(mesh: SimMesh, maxSimMs: number): Promise<number | null> {
  const newcomer = await mesh.join([NEW_MODEL])
  let far: MeshPeer | undefined
  for (const p of mesh.requesters()) {
    if (await p.connectedTo(newcomer.peerId)) continue
    far = p
    break
  }
  if (far === undefined) return null
  const asker = far
  return waitUntil(mesh, async () => (await asker.order(NEW_MODEL)).includes(newcomer.agent), maxSimMs)
}

export interface DeadRunnerFigures {
  /** Simulated ms from the runner's death until the requester's plan no longer tries it first. */
  droppedSimMs: number | null
  /** The requester's first request after the death: answered, and how many runners it tried. */
  firstAfter: Outcome | null
}

/**
 * A requester that would send a model's next request to a runner (of a model two or more runners
 * serve, whether it knows the others or not; nothing is measured in a mesh with no such model) keeps
 * asking for it, one request at a time, as its load would; the runner is switched off. How long until
 * its plan stops putting the dead runner first (by use: the failed try opens that runner's breaker),
 * and whether the first request after the death was answered by failing over within itself.
 */
export async function deadRunnerProbe(
  mesh: SimMesh,
  tryMs: number,
  maxSimMs: number,
): Promise<DeadRunnerFigures> {
  // A model another runner serves too: what the request can fail over to.
  const model = MODELS.find((m) => mesh.runners(m).length >= 2)
  if (model === undefined) return { droppedSimMs: null, firstAfter: null }
  // The 20 asked at once: one after another, each plan that looks in the directory may wait out its find
  // (3 s simulated, 75 real at 1,000 peers on the 40/N clock), up to 20 of them before the runner dies.
  const firsts = await Promise.all(
    mesh
      .requesters()
      .slice(0, 20)
      .map(async (p) => ({ p, first: (await p.order(model).catch(() => []))[0] })),
  )
  const picked = firsts
    .map(({ p, first }) => ({ p, runner: mesh.runners(model).find((r) => r.agent === first) }))
    .find(({ runner }) => runner !== undefined)
  if (picked?.runner === undefined) return { droppedSimMs: null, firstAfter: null }
  const [who, dead] = [picked.p, picked.runner]
  await mesh.leave(dead)
  let firstAfter: Outcome | null = null
  let asking: Promise<unknown> | null = null
  const droppedSimMs = await waitUntil(
    mesh,
    async () => {
      asking ??= who.request(model, tryMs).then((outcome) => {
        firstAfter ??= outcome
        asking = null
      })
      return (await who.order(model))[0] !== dead.agent
    },
    maxSimMs,
  )
  await asking
  return { droppedSimMs, firstAfter }
}

export interface FarBatchFigures {
  /** Simulated ms of each get that found the batch. */
  foundSimMs: number[]
  /** Gets that found it at none of its holders. */
  missed: number
}

/**
 * A far agent's public batch, got from its holders: every simulated 2 s until `maxSimMs`, a requester
 * neither connected to a random author nor among the holders of that author's latest batch gets it by
 * action hash (holder-get.ts over `record/1.0.0`, checked); the simulated ms each get took.
 */
export async function farBatchProbe(mesh: SimMesh, maxSimMs: number): Promise<FarBatchFigures> {
  const figures: FarBatchFigures = { foundSimMs: [], missed: 0 }
  const start = performance.now()
  while ((performance.now() - start) * mesh.speedup < maxSimMs) {
    await sleep(mesh.real(2_000))
    const [author] = sample(mesh.peers, 1)
    const batch = author && (await author.lastBatch().catch(() => null))
    if (!author || !batch) continue
    const members = mesh.peers.map((p) => p.agent)
    const at = holderGroups(decodeHashB64(batch, 'action'), decodeHashB64(author.agent, 'agent'), members, R)
    const holders = new Set(at.flat())
    let asker: MeshPeer | undefined
    for (const p of sample(mesh.requesters(), 10))
      if (!holders.has(p.agent) && !(await p.connectedTo(author.peerId).catch(() => true))) {
        asker = p
        break
      }
    if (asker === undefined) continue
    await asker.getRecord(batch).then(
      (got) => figures.foundSimMs.push(got.ms * mesh.speedup),
      () => figures.missed++,
    )
  }
  return figures
}
