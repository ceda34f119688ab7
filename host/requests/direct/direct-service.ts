/**
 * Route-then-run on this peer: its runner (serving the mesh's direct protocol, and this peer's own
 * requests in process) and its requester side, started and stopped as one service. Stopping signs the
 * windows still open and waits for the records still being written.
 */

import type { Stream } from '@libp2p/interface'
import type { AnswerBatch, EntryRecord, LeafProof, ServedRecord } from '../../../zomes-bindings/index.ts'
import type { AgentPort } from '../../interface/agent-port.ts'
import type { OpCarrier } from '../../interface/carried-ops.ts'
import type { ConductorPort, ZomeCallOptions } from '../../interface/conductor-port.ts'
import type { Logger } from '../../log/logger.ts'
import type { PoliciesPort } from '../../policy/policies-port.ts'
import { untilAborted } from '../../runtime/until-aborted.ts'
import type { WorkersPort } from '../../workers/workers-port.ts'
import type { DirectPort, ServedChecks } from '../direct-port.ts'
import { DirectInference, type DirectInferenceInit } from './direct-inference.ts'
import { DirectRunner, type DirectRunnerInit } from './direct-runner.ts'
import { answerLoad, stopAnsweringLoad } from './load-probe.ts'
import type { RoutePlanInput } from './route-plan.ts'
import type { LoadAnswer } from './runner-pick.ts'
import { serveDirect, stopServingDirect } from './runner-streams.ts'
import { checkLeafProof, type LeafCheck } from './served-leaf.ts'
import type { ServedRecordsInit } from './served-records.ts'

export interface DirectServiceInit
  extends Pick<DirectRunnerInit, 'batchWindowMs' | 'batchMaxLeaves' | 'weightOf'>,
    Pick<ServedRecordsInit, 'recordWaitMs' | 'coverSlotMs'> {
  /** Carries this runner's batches beside its proofs, and stores those runners carry here; null: gossip only. */
  carrier?: OpCarrier | null
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  workers: WorkersPort
  policies: Pick<PoliciesPort, 'decide'>
  slotsOf: DirectRunnerInit['slotsOf']
  agents: AgentPort<Stream> | null
  /** Each peer's stated release: which protocol version its runner is asked for. */
  versions?: DirectInferenceInit['versions']
  peers: () => Promise<RoutePlanInput['peers']>
  /** The model directory and load asks (a big mesh's runners beyond those heard), where the backend has them. */
  discovery?: DirectInferenceInit['discovery']
  /** What this peer answers a requester asking its load; without it, it answers none. */
  own?: () => LoadAnswer
  waitForAction?: (hash: string, timeoutMs: number) => Promise<boolean>
  onServed?: (output: unknown) => void
  logger: Logger
}

export class DirectService implements DirectPort {
  readonly inference: DirectInference
  readonly #runner: DirectRunner
  readonly #agents: AgentPort<Stream> | null
  readonly #carrier: OpCarrier | null
  readonly #conductor: DirectServiceInit['conductor']
  readonly #own: (() => LoadAnswer) | null
  readonly #logger: Logger

  constructor(init: DirectServiceInit) {
    const { agents, conductor } = init
    this.#runner = new DirectRunner(init)
    this.#agents = agents
    this.#carrier = init.carrier ?? null
    this.#conductor = conductor
    this.#own = init.own ?? null
    this.#logger = init.logger
    this.inference = new DirectInference({ ...init, runner: this.#runner })
  }

  /**
   * What this peer holds of a request it ran or asked for (once a record it is writing is written),
   * each proof checked against its batch; null on a peer that took no part in it. Its caller gone
   * (`options.signal`), it stops waiting and reading.
   */
  async served(
    request: string,
    options: ZomeCallOptions = {},
  ): Promise<(ServedRecord & { checks: ServedChecks }) | null> {
    const recording = this.inference.recording(request)
    if (recording) await (options.signal ? untilAborted(recording, options.signal) : recording)
    const record = await this.#conductor.callZome('resource_mesh', 'get_served', request, options)
    if (record === null) return null
    const { answered, served } = record
    const proof = served?.leaf.proof ?? null
    const checks = {
      answered: answered && checkLeafProof(answered.proof, answered.batch, this.#conductor.agentPubKey),
      served: served && proof && checkLeafProof(proof, served.runner_batch, served.leaf.runner),
    }
    return { ...record, checks }
  }

  /** Checks a leaf and its proof against the public batch it cites (every peer holds them). */
  async checkLeaf(
    proof: LeafProof,
    options: ZomeCallOptions = {},
  ): Promise<LeafCheck & { batch: EntryRecord<AnswerBatch> | null }> {
    const batch = await this.#conductor.callZome('resource_mesh', 'get_answer_batch', proof.batch, options)
    return { ...checkLeafProof(proof, batch), batch }
  }

  async start(): Promise<void> {
    this.inference.start()
    if (this.#agents) await serveDirect(this.#runner, this.#agents, this.#logger, this.#carrier)
    if (this.#agents && this.#own) await answerLoad(this.#agents, this.#own)
  }

  async stop(): Promise<void> {
    if (this.#agents) await stopServingDirect(this.#agents)
    if (this.#agents && this.#own) await stopAnsweringLoad(this.#agents)
    await this.#runner.settle()
    await this.inference.settle()
  }
}
