/**
 * Whom a get asks for an op, in order (issue 57): the holders op-holders.ts plans over the members
 * this peer counts (a warranted or revoked agent is no member, so it is neither planned nor asked),
 * less this peer itself (it asks because it lacks the op); those it has a connection to first, since
 * asking them costs no dial, each group closest first. Pure: the table tests choose by it.
 */
import { opHolders } from './op-holders.ts'

export interface HolderOrderInput {
  /** The basis of the op (for a record got by its action hash, that hash's bytes). */
  basis: Uint8Array
  /** The members this peer knows (AgentPubKey, HoloHashB64), itself among them or not. */
  members: Iterable<string>
  /** How many hold each op: the network file's `record.holders`. */
  holders: number
  /** This peer's agent. */
  self: string
  /** Warranted or revoked here: not a member, not asked. */
  barred: (agent: string) => boolean
  /** An open connection to it now. */
  connected: (agent: string) => boolean
}

/** The holders to ask, in the order to ask them. */
export function holdersToAsk(input: HolderOrderInput): string[] {
  const members = [...input.members].filter((agent) => !input.barred(agent))
  const planned = opHolders(input.basis, members, input.holders).filter((agent) => agent !== input.self)
  return [...planned.filter(input.connected), ...planned.filter((agent) => !input.connected(agent))]
}
