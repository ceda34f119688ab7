/**
 * Where a requester looks beyond what it already knows (design 4e): while what it heard (capabilities
 * and the load news of the models it uses) holds a runner of the model with a slot free, it routes on
 * that (route-plan.ts) and asks nobody. When it holds none, it asks the model directory for runners,
 * asks a few of them for their load (power of two choices: two sampled at random, not every runner, so
 * a thousand requesters spread over the runners without each asking all), and plans again over what
 * they answered: the plan's own rules (a conversation's home first, free slots, fewest of ours
 * running, this peer first) pick among them. A candidate that did not answer is left out of this
 * request's plan (a dead runner whose advert has not expired yet), so a request never waits on it.
 * Pure: what is known in, whom to ask and the merged peers out (the mesh simulation runs the same).
 */
import type { Heartbeat, NodeCapability } from '../../../zomes-bindings/index.ts'
import type { RouteCandidate, RoutePlanInput } from './route-plan.ts'

/** Runners asked for their load per look (the "two" of power of two choices). */
export const PROBES = 2

type PlanPeer = RoutePlanInput['peers'][number]

/** Whether what is known leaves the request without a runner that has the model loaded and a slot free. */
export function needsDirectory(plan: readonly RouteCandidate[]): boolean {
  return !plan.some((c) => c.tier === 0)
}

export interface ProbeTargetsInput {
  /** The agents the directory named for the model (any order; duplicates allowed). */
  found: readonly string[]
  /** This peer's agent: never asked (what it knows of itself is fresh). */
  self: string
  /** Whether a runner may be sent a request now (its circuit breaker). */
  passable: (agent: string) => boolean
  /** Runners whose load this peer heard lately (their model's news): known already, not asked. */
  fresh?: ReadonlySet<string>
  /** How many to ask; PROBES by default. */
  probes?: number
  /** In [0, 1); Math.random by default (tests pass a fixed sequence). */
  random?: () => number
}

/** The runners to ask for their load: `probes` sampled at random among those found that may be asked. */
export function probeTargets(input: ProbeTargetsInput): string[] {
  const random = input.random ?? Math.random
  const pool = [...new Set(input.found)].filter(
    (agent) => agent !== input.self && input.passable(agent) && !input.fresh?.has(agent),
  )
  const take = Math.min(input.probes ?? PROBES, pool.length)
  // A partial Fisher-Yates shuffle: the first `take` places hold a uniform sample.
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (pool.length - i))
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, take)
}

/** A runner's answer to "your load?": its latest heartbeat and what it advertises (load-probe.ts). */
export interface LoadAnswer {
  capability: NodeCapability
  heartbeat: Heartbeat | null
}

/**
 * The peers to plan over once the asked runners answered: each answer replaces what was known of that
 * runner (heard now), a runner that did not answer counts as offline for this request, the rest stay.
 */
export function mergeAnswers(
  peers: readonly PlanPeer[],
  answers: ReadonlyMap<string, LoadAnswer>,
  failed: ReadonlySet<string>,
): PlanPeer[] {
  const merged: PlanPeer[] = peers.map((peer) => {
    const answer = answers.get(peer.agent)
    if (answer !== undefined) return answered(peer.agent, answer, peer.revoked)
    return failed.has(peer.agent) ? { ...peer, status: 'offline' } : peer
  })
  const known = new Set(peers.map((peer) => peer.agent))
  for (const [agent, answer] of answers) if (!known.has(agent)) merged.push(answered(agent, answer))
  return merged
}

function answered(agent: string, answer: LoadAnswer, revoked?: boolean): PlanPeer {
  return {
    agent,
    self: false,
    status: 'online',
    capability: answer.capability,
    load: answer.heartbeat,
    last_heartbeat_ms_ago: 0,
    ...(revoked === undefined ? {} : { revoked }),
  }
}
