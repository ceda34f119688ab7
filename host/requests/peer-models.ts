/**
 * The models of the whole mesh, one entry per model name, from the peers this host sees: which peers
 * have it (online or stale ones; an offline peer serves nothing), which have it loaded, and what
 * the GGUF says about it. Pure: the peers in, the list out.
 */
import type { ModelInfo } from '../../zomes-bindings/index.ts'
import { advertisesVision } from '../inference/vision.ts'
import type { PeerEntry } from '../interface/live-peers.ts'

export interface PeerModel {
  name: string
  /** Agents that advertise a file of this name, this host first when it has one. */
  peers: string[]
  /** Those that have it in memory now. */
  loaded_on: string[]
  /** Those whose last heartbeat reported no free slot (or, without slots, tasks queued or running). */
  busy: string[]
  /** Where it runs split over peers (as its head reports it): the peers, head first, with their layers. */
  split: { agent: string; layers: number; bytes: number }[] | null
  /** Distinct files of this name (the same name may be different files on different peers). */
  file_hashes: string[]
  parameters: number | null
  quantisation: string | null
  context_length: number | null
  architecture: string | null
  size_bytes: number
  /** Some peer serves it with its projector: it takes images (vision.ts). */
  vision: boolean
}

export function peerModels(peers: readonly PeerEntry[]): PeerModel[] {
  const byName = new Map<string, PeerModel>()
  for (const peer of peers) {
    if (peer.status === 'offline' || peer.capability === null) continue
    for (const info of peer.capability.inference.models) {
      const model = byName.get(info.name) ?? emptyModel(info)
      byName.set(info.name, model)
      model.peers.push(peer.agent)
      if (info.loaded) model.loaded_on.push(peer.agent)
      const free = peer.load?.slots_free
      if (free === undefined ? (peer.load?.queue_depth ?? 0) > 0 : free === 0) model.busy.push(peer.agent)
      if (!model.file_hashes.includes(info.file_hash)) model.file_hashes.push(info.file_hash)
      if (advertisesVision(peer.capability, info.file_hash)) model.vision = true
      const split = peer.load?.splits?.find((s) => s.model === info.name)
      if (split && info.loaded) model.split = split.peers
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** The peers with `info` among this peer's own models, as its capability will say once advertised. */
export function withOwnModel(peers: readonly PeerEntry[], info: ModelInfo): PeerEntry[] {
  return peers.map((peer) =>
    peer.self && peer.capability !== null
      ? {
          ...peer,
          capability: {
            ...peer.capability,
            inference: { ...peer.capability.inference, models: [...peer.capability.inference.models, info] },
          },
        }
      : peer,
  )
}

function emptyModel(info: ModelInfo): PeerModel {
  return {
    name: info.name,
    peers: [],
    loaded_on: [],
    busy: [],
    split: null,
    file_hashes: [],
    parameters: info.parameters,
    quantisation: info.quantisation,
    context_length: info.context_length,
    architecture: info.architecture,
    size_bytes: info.size_bytes,
    vision: false,
  }
}
