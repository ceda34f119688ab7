/**
 * Route-then-run on this peer: its runner (serving the mesh's direct protocol, and this peer's own
 * requests in process) and its requester side, started and stopped as one service. Stopping waits
 * for the Served records still being written.
 */
import type { ServedState } from '../../../zomes-bindings/index.ts'
import type { ConductorPort } from '../../interface/conductor-port.ts'
import type { Logger } from '../../log/logger.ts'
import type { PeerStreams } from '../../net/peer-streams.ts'
import type { PolicyService } from '../../policy/policy-service.ts'
import type { WorkerRegistry } from '../../workers/worker-registry.ts'
import { DirectInference } from './direct-inference.ts'
import { DirectRunner, type DirectRunnerInit } from './direct-runner.ts'
import { DIRECT_PROTOCOL } from './direct-wire.ts'
import type { RoutePlanInput } from './route-plan.ts'

export interface DirectServiceInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  workers: Pick<WorkerRegistry, 'get'>
  policies: Pick<PolicyService, 'decide'>
  slotsOf: DirectRunnerInit['slotsOf']
  streams: PeerStreams | null
  peers: () => Promise<RoutePlanInput['peers']>
  waitForAction?: (hash: string, timeoutMs: number) => Promise<boolean>
  onServed?: (output: unknown) => void
  logger: Logger
}

export class DirectService {
  readonly inference: DirectInference
  readonly #runner: DirectRunner
  readonly #streams: PeerStreams | null
  readonly #conductor: DirectServiceInit['conductor']

  constructor(init: DirectServiceInit) {
    const { streams, conductor } = init
    this.#runner = new DirectRunner(init)
    this.#streams = streams
    this.#conductor = conductor
    this.inference = new DirectInference({ ...init, runner: this.#runner })
  }

  /** A request's Served record and the Answer it cites, once a record this peer is writing is written. */
  async served(request: string): Promise<ServedState | null> {
    await this.inference.recording(request)
    return this.#conductor.callZome('resource_mesh', 'get_served', request)
  }

  async start(): Promise<void> {
    if (this.#streams) await this.#runner.serve(this.#streams)
  }

  async stop(): Promise<void> {
    if (this.#streams) await this.#streams.unhandle(DIRECT_PROTOCOL).catch(() => {})
    await this.inference.settle()
  }
}
