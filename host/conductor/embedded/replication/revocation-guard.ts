/**
 * Revocations as replication enforces them: the ones an admin wrote (./revocations.ts) are loaded at
 * start and noted as they arrive; a revoked agent (by name, or through the invite its genesis carried)
 * has its connections dropped and refused.
 */
import { decodeHashB64, encodeHashB64 } from '../../../identity/hash.ts'
import { peerIdOfAgent } from '../../../identity/peer-agent.ts'
import type { Logger } from '../../../log/logger.ts'
import type { RippleNode } from '../../../net/create-node.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { inviteIdOf } from '../validation/membrane-proof.ts'
import { storeRecords } from '../validation/record-rules.ts'
import { RevocationList } from './revocations.ts'

export interface RevocationGuardInit {
  conductor: EmbeddedConductor
  node: Pick<RippleNode, 'deny'>
  logger: Logger
  /** True once an op of `agent` was refused for its revocation (the ingest knows). */
  refusedAsRevoked: (agent: string) => boolean
}

export class RevocationGuard {
  readonly list = new RevocationList()
  readonly #init: RevocationGuardInit

  constructor(init: RevocationGuardInit) {
    this.#init = init
  }

  /** Loads the revocations this peer holds, and drops whoever they name. */
  async start(): Promise<void> {
    const held = await this.#init.conductor.callZome('agent_registry', 'list_revocations', null)
    for (const record of held) this.list.add(record.entry, record.timestamp)
    await this.#enforce()
  }

  /** A revocation arrived: `agent` is the one it names, null for an invite (whoever joined with it). */
  onRevoked(agent: string | null): void {
    void (agent === null ? this.#enforce() : this.#deny(agent))
  }

  isRevoked(agent: string): boolean {
    if (this.list.size === 0) return false
    if (this.#init.refusedAsRevoked(agent)) return true
    return this.list.since(agent, this.#inviteOf(decodeHashB64(agent, 'agent'))) !== null
  }

  /** The invite id `agent`'s genesis carried (agent_registry's; every DNA's carries the same). */
  #inviteOf(agent: Uint8Array): string | null {
    const { store } = this.#init.conductor
    const dnaHash = this.#init.conductor.cell('agent_registry').dnaHash
    return inviteIdOf(storeRecords(store, dnaHash).genesisProof(agent))
  }

  /** Drops every revoked agent this peer knows of: those named, and those that joined with a revoked invite. */
  async #enforce(): Promise<void> {
    const { conductor } = this.#init
    const dnaHash = conductor.cell('agent_registry').dnaHash
    const authors = conductor.store.chainHeads(dnaHash).map((head) => encodeHashB64(head.author))
    const revoked = new Set([...this.list.agents(), ...authors.filter((a) => this.isRevoked(a))])
    await Promise.all([...revoked].map((agent) => this.#deny(agent)))
  }

  async #deny(agent: string): Promise<void> {
    if (agent === this.#init.conductor.agentPubKey) return
    this.#init.logger.info({ agent }, 'revoked: dropping its connections')
    await this.#init.node.deny(peerIdOfAgent(agent))
  }
}
