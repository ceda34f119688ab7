/** What the rest of the node asks of the mesh's usage: a member's, as the other peers signed it (the API's). */
import type { Startable } from '../interface/startable.ts'

export interface UsageTotals {
  requests: number
  failed: number
  tokens_in: number
  tokens_out: number
  reasoning_tokens: number
}

export interface PeerUsage {
  agent: string
  name: string | null
  self: boolean
  release: string | null
  /** Why there is no answer (unreachable, or a release that does not speak usage/1.0.0); null when answered. */
  message: string | null
  /** What the peer signed running this member's requests ... */
  as_runner: UsageTotals
  /** ... and of this member running its requests. */
  as_requester: UsageTotals
}

export interface MeshUsageView {
  peers: PeerUsage[]
  sum: Pick<PeerUsage, 'as_runner' | 'as_requester'>
}

export interface MeshUsagePort extends Startable {
  /** Each online peer's answer about this member (this peer's own rows about itself first), and their sum. */
  ask(since: number): Promise<MeshUsageView>
}
