/**
 * How this node is connected to a peer, as the API shows it: directly, or relayed through which relay.
 * Schema only: the API contract (and so the browser dashboard) imports it; reading it off libp2p's
 * connections is `net/peer-links.ts`.
 */
import { z } from 'zod'

export const PeerLinkSchema = z.object({
  path: z.enum(['direct', 'relayed']),
  /** The relay's PeerId, for a relayed link. */
  via: z.string().nullable(),
  remote_addr: z.string(),
  /** When the connection this link describes opened (ms since the epoch): a new one after a cut. */
  opened_at: z.number(),
})
export type PeerLink = z.infer<typeof PeerLinkSchema>
