/**
 * The part of a conductor the registry reaches, for a simulated peer: signals over the node's gossip
 * and model topics (the embedded conductor's own signal transport, signed and checked), and the
 * agent_registry record as one map shared by the simulated mesh (every member reads every capability
 * from the record; what replicating it costs is the record's, not simulated here; a mesh split over
 * processes keeps a copy in each, in step: shard.ts). Other zome calls are refused: the simulation
 * makes none.
 */

import type { SignalTransport } from '../../host/conductor/embedded/signal-transport.ts'
import type { ConductorPort } from '../../host/interface/conductor-port.ts'
import type { EntryRecord, NodeCapability } from '../../zomes-bindings/index.ts'

/** The agent_registry capabilities of the mesh by author: the record every member reads. */
export type CapabilityRecord = Map<string, EntryRecord<NodeCapability>>

export function simConductor(
  agent: string,
  signals: SignalTransport,
  record: CapabilityRecord,
): ConductorPort {
  const topics = signals.topics
  const callZome = async (dna: string, fn: string, payload: unknown): Promise<unknown> => {
    if (dna === 'agent_registry' && fn === 'advertise_capability') {
      const at = Date.now() * 1000
      record.set(agent, {
        action_hash: `sim-${agent}-${at}`,
        author: agent,
        timestamp: at,
        entry: payload as NodeCapability,
      })
      return null
    }
    if (dna === 'agent_registry' && fn === 'list_nodes') return [...record.values()]
    throw new Error(`the simulation makes no ${dna}.${fn} call`)
  }
  return {
    backend: 'embedded',
    agentPubKey: agent,
    callZome: callZome as ConductorPort['callZome'],
    agentInfo: () => Promise.reject(new Error('no agent info in the simulation')),
    broadcastSignal: (dna, payload) => signals.broadcast({ dna, from: agent, payload }),
    sendSignal: (dna, to, payload) => signals.send(to, { dna, from: agent, payload }),
    onSignal: (handler) => signals.onReceive(handler),
    ...(topics && {
      topics: {
        join: (topic) => topics.join(topic),
        leave: (topic) => topics.leave(topic),
        publish: (dna, topic, payload) => topics.publish(topic, { dna, from: agent, payload }),
      },
    }),
    close: () => signals.close(),
  }
}
