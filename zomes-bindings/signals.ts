/**
 * Ephemeral signals (heartbeats, task progress) between peers, never written to a chain. Every
 * coordinator zome exports `broadcast_signal` (send a payload to every peer of the network),
 * `send_signal` (to one agent: Holochain's remote signal) and Holochain's `recv_remote_signal` callback, which re-emits what arrives as an app signal shaped
 * `SignalEnvelope`, so a host on either backend learns who sent it.
 */
import { z } from 'zod'
import { AgentPubKeyB64Schema } from './common.ts'

/** The zome function every coordinator exports to send an ephemeral signal to every peer. */
export const BROADCAST_SIGNAL_FN = 'broadcast_signal'

/** The zome function every coordinator exports to send an ephemeral signal to one agent. */
export const SEND_SIGNAL_FN = 'send_signal'

/** The input of `send_signal`: to whom, and what. */
export const SendSignalInputSchema = z.object({
  to: AgentPubKeyB64Schema,
  payload: z.unknown(),
})
export type SendSignalInput = z.infer<typeof SendSignalInputSchema>

/** Holochain callbacks the coordinators export besides the contract's functions. */
export const COORDINATOR_CALLBACKS = ['init', 'recv_remote_signal'] as const

/** The app signal a peer's conductor emits when a signal reaches it. */
export const SignalEnvelopeSchema = z.object({
  from: AgentPubKeyB64Schema,
  payload: z.unknown(),
})
export type SignalEnvelope = z.infer<typeof SignalEnvelopeSchema>
