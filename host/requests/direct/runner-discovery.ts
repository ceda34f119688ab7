/**
 * The requester's look beyond what it knows (design 4e), around the pure runner-pick.ts: when what it
 * knows holds no runner of the model with a slot free (or only ones that failed lately) and it does
 * not hear the whole mesh (a big one), it asks the model directory, asks two of the runners found for
 * their load, and hands back the peers to plan over. A small mesh, whose every peer's news reaches
 * every other, never looks.
 */
import type { ModelDirectoryPort } from '../../interface/model-directory.ts'
import { askLoads } from './load-probe.ts'
import type { RouteCandidate, RoutePlanInput } from './route-plan.ts'
import { mergeAnswers, needsDirectory, probeTargets } from './runner-pick.ts'

/** Runners read from the directory per look. */
export const FOUND_LIMIT = 20
/** How long a directory lookup may take before the request goes on with what is known. */
export const FIND_TIMEOUT_MS = 3000

export interface RunnerDiscoveryInit {
  directory: Pick<ModelDirectoryPort, 'find'>
  agents: Parameters<typeof askLoads>[0]
  /** Whether every peer's routing news reaches this one (a small mesh): what it knows is all there is. */
  hearsAll: () => boolean
  /** A request for the model is being routed: its topic's news is heard from now (registry's `using`). */
  using?: (model: string) => void
  /** How long a look and a load ask may take (FIND_TIMEOUT_MS, PROBE_TIMEOUT_MS; the simulation's clock slows both). */
  timeouts?: { findMs: number; probeMs: number }
}

export interface DiscoveryAsk {
  self: string
  model: string
  peers: RoutePlanInput['peers']
  plan: readonly RouteCandidate[]
  passable: (agent: string) => boolean
  signal: AbortSignal
}

/** The peers to plan over after a look, or null when none was needed (or the directory gave nothing). */
export async function discoverRunners(
  init: RunnerDiscoveryInit,
  ask: DiscoveryAsk,
): Promise<RoutePlanInput['peers'] | null> {
  init.using?.(ask.model)
  // A known runner that failed lately (its breaker open) does not count: it may be gone since heard of.
  if (!needsDirectory(ask.plan.filter((c) => ask.passable(c.agent))) || init.hearsAll()) return null
  const found = await init.directory
    .find(ask.model, {
      limit: FOUND_LIMIT,
      signal: AbortSignal.any([ask.signal, AbortSignal.timeout(init.timeouts?.findMs ?? FIND_TIMEOUT_MS)]),
    })
    .catch(() => [])
  const online = new Set(ask.peers.filter((p) => p.status === 'online').map((p) => p.agent))
  const fresh = new Set(ask.plan.map((c) => c.agent).filter((agent) => online.has(agent)))
  const targets = probeTargets({ found, self: ask.self, passable: ask.passable, fresh })
  if (targets.length === 0) return null
  const { answers, failed } = await askLoads(init.agents, targets, ask.signal, init.timeouts?.probeMs)
  return mergeAnswers(ask.peers, answers, failed)
}
