/**
 * One process of a split mesh (split-host.ts): its share of the simulated peers over TCP on loopback,
 * started, stopped, measured and asked as its controller says over IPC. Its copy of the agent_registry
 * record sends every write of its own peers to the controller, and takes in those of other processes.
 */
import '../../host/runtime/node20-polyfills.ts'
import type { EntryRecord, NodeCapability } from '../../zomes-bindings/index.ts'
import type { PeerHost } from './mesh-peer.ts'
import type { ProcessFigures } from './process-meter.ts'
import { localHost, type PeerSettings } from './sim-mesh.ts'
import type { SimPeer } from './sim-peer.ts'
import type { Member } from './sim-record.ts'
import { type Ask, PEER_ASKS, type RecordWrite, type ShardMessage, type Started } from './split-host.ts'

/** The record every member reads: its own peers' writes also go out, other processes' come in quietly. */
class SharedRecord extends Map<string, EntryRecord<NodeCapability>> {
  override set(agent: string, entry: EntryRecord<NodeCapability>): this {
    super.set(agent, entry)
    send({ record: [agent, entry] })
    return this
  }

  merge([agent, entry]: RecordWrite): void {
    super.set(agent, entry)
  }
}

const send = (message: ShardMessage) => process.send?.(message)
const record = new SharedRecord()
let host: (PeerHost & { peer: (agent: string) => SimPeer }) | undefined
let meter: { stop: () => Promise<ProcessFigures[]> } | undefined
const here = () => {
  if (host === undefined) throw new Error('mesh-sim process asked before its init')
  return host
}

const ops: Record<string, (...args: never[]) => Promise<unknown>> = {
  init: async (settings: PeerSettings) => {
    host = localHost(settings, record, 'tcp')
  },
  start: async (serves: string[], bootstrap: string[]): Promise<Started> => {
    const peer = await here().start(serves, bootstrap)
    return { agent: peer.agent, peerId: peer.peerId, addrs: peer.addrs() }
  },
  stop: (agent: string) => here().stop(here().peer(agent)),
  members: (list: Member[]) => here().members(list),
  calm: () => here().calm(),
  meter: async () => {
    meter = await here().meter()
  },
  meterStop: async () => (await meter!.stop())[0],
  peer: (agent: string, method: (typeof PEER_ASKS)[number], ...args: never[]) => {
    if (!PEER_ASKS.includes(method)) throw new Error(`no peer ask ${method}`)
    const peer = here().peer(agent)
    return (peer[method] as (...a: never[]) => Promise<unknown>).apply(peer, args)
  },
  close: async () => {
    await here().close()
    // Peers stopped, but a closed libp2p node's stray timers must not keep this process up.
    setImmediate(() => process.exit(0))
  },
}

process.on('message', (message: Ask | { record: RecordWrite }) => {
  if ('record' in message) return record.merge(message.record)
  const op = ops[message.op]
  Promise.resolve()
    .then(() => {
      if (op === undefined) throw new Error(`no mesh-sim op ${message.op}`)
      return op(...(message.args as never[]))
    })
    .then(
      (value) => send({ id: message.id, value }),
      (error: unknown) => send({ id: message.id, error: String((error as Error)?.stack ?? error) }),
    )
})
// The controller gone, nothing is left to answer.
process.on('disconnect', () => process.exit(0))
