/**
 * Where an op lives when records are sharded (issue 57, docs/record.md "Where records live"): for one
 * op and the members known, whether this peer keeps it as `chain` (contiguous, in chain order: its own
 * chains, the chains it is an agent-activity holder of, and every agent's genesis, which is the start
 * of every chain and membership), `held` (out of chain order: everywhere ops, and neighbourhood ops
 * it is a basis holder of) or not at all (null), and to whom its author pushes it instead of gossiping
 * it (its basis holders and its activity holders). While records are not sharded every peer keeps
 * every op as chain and every op goes on gossip, as before. Pure: ingest, publish and reads plan by it.
 */
import type { Action } from '@holochain/client'
import type { DnaDef } from '../dna.ts'
import { ActionTypes } from '../hc-enums.ts'
import { activityBasis, opBases } from './op-basis.ts'
import { opHolders } from './op-holders.ts'
import { entryScope, linkScope, type RecordScope } from './record-scope.ts'

export type Keep = 'chain' | 'held' | null

export interface PlacementInput {
  action: Action
  /** The action's hash. */
  hash: Uint8Array
  /** Its scope (opScope); undefined for an action of no entry or link type, or one not resolved. */
  scope: RecordScope | undefined
  /** The members known (AgentPubKey, HoloHashB64), this peer among them or not. */
  members: readonly string[]
  /** The network file's `record.holders`. */
  holders: number
  /** This peer's agent. */
  self: string
  /** record-sharding.ts's verdict for this mesh now. */
  sharded: boolean
}

export interface OpPlacement {
  keep: Keep
  /** On the mesh-wide gossip topic (everywhere ops, genesis, and every op while not sharded). */
  gossip: boolean
  /** Not gossiped: the holders its author pushes it to (basis and activity holders), self left out. */
  pushTo: string[]
}

/** An agent's genesis: the Dna action, its membrane proof (the witnessed admission) and its key. */
export function isGenesis(action: Action): boolean {
  return (
    action.type === ActionTypes.Dna ||
    action.type === ActionTypes.AgentValidationPkg ||
    (action.type === ActionTypes.Create && action.entry_type === 'Agent')
  )
}

export function placeOp(input: PlacementInput): OpPlacement {
  const { action, members, holders, self } = input
  if (!input.sharded) return { keep: 'chain', gossip: true, pushTo: [] }
  const genesis = isGenesis(action)
  const activity = opHolders(activityBasis(action.author), members, holders)
  const basis = new Set(holdersOfAny(opBases(action, input.hash), members, holders))
  // Unresolved (a delete whose target is not held here): gossiped, so that no holder misses it.
  const gossip = genesis || input.scope !== 'neighbourhood'
  const keep: Keep =
    genesis || activity.includes(self)
      ? 'chain'
      : input.scope === 'everywhere' || basis.has(self)
        ? 'held'
        : null
  const pushTo = gossip ? [] : [...new Set([...basis, ...activity])].filter((agent) => agent !== self)
  return { keep, gossip, pushTo }
}

/**
 * Members a sender's view of the mesh may differ from this peer's by (members joined or left that one
 * of them has not counted yet): a neighbourhood op is kept held when this peer is within R + this of
 * its closest by its own view, so an op pushed by its author's view is not lost between two views.
 */
export const VIEW_MARGIN = 2

/**
 * How this peer keeps a neighbourhood op it received although its own plan keeps none: held when it
 * is among the R + VIEW_MARGIN members closest to one of the op's bases or to its author (its sender
 * placed it by another view of the members, which puts it within a member or two of R); else not.
 * Ingest alone takes this: what a peer publishes, reads and compares still follows `placeOp`.
 */
export function keepReceived(input: PlacementInput, planned = placeOp(input).keep): Keep {
  if (planned !== null || !input.sharded || input.scope !== 'neighbourhood') return planned
  const { action, members, self } = input
  const near = input.holders + VIEW_MARGIN
  const bases = [...opBases(action, input.hash), activityBasis(action.author)]
  return holdersOfAny(bases, members, near).includes(self) ? 'held' : null
}

/** The holders of any of `bases`, each once. */
function holdersOfAny(bases: readonly Uint8Array[], members: readonly string[], r: number): string[] {
  return bases.flatMap((basis) => opHolders(basis, members, r))
}

/**
 * The scope of `action` in `dna`: its entry type's, its link type's, or for a Delete / DeleteLink that
 * of what it deletes (`target`: that action where held, else null). Undefined for the actions of no
 * type (genesis, InitZomesComplete, an agent key) and for a delete whose target is not known.
 */
export function opScope(
  dna: Pick<DnaDef, 'name' | 'entryTypes' | 'linkTypes'>,
  action: Action,
  target: (hash: Uint8Array) => Action | null,
): RecordScope | undefined {
  switch (action.type) {
    case ActionTypes.Create:
    case ActionTypes.Update: {
      const type = action.entry_type
      if (typeof type !== 'object' || !('App' in type)) return undefined
      const name = dna.entryTypes[type.App.entry_index]
      return name === undefined ? undefined : entryScope(dna.name, name)
    }
    case ActionTypes.CreateLink: {
      const name = dna.linkTypes[action.link_type]
      return name === undefined ? undefined : linkScope(dna.name, name)
    }
    case ActionTypes.Delete:
    case ActionTypes.DeleteLink: {
      const deleted = target(
        action.type === ActionTypes.Delete ? action.deletes_address : action.link_add_address,
      )
      return deleted === null ||
        deleted.type === ActionTypes.Delete ||
        deleted.type === ActionTypes.DeleteLink
        ? undefined
        : opScope(dna, deleted, target)
    }
    default:
      return undefined
  }
}
