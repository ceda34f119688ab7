/**
 * The agents an admin revoked, as a Holochain conductor holds them (agent_registry's `list_revocations`):
 * the one read of them on this backend. `has` answers at once (the peers list, the route plan, the
 * scheduler ask it synchronously), so what was read last is kept and read again every few seconds and
 * at each member-gate check, where a peer connecting must not pass on a stale list. An agent newly
 * found revoked is handed to `onRevoked` (the libp2p node denies it: its connections close, new ones
 * are refused), as the embedded backend's revocation guard does. A revocation of an invite bars no one
 * here: the zomes do not read which invite a genesis carried.
 */
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'

/** How often the revocations are read again between gate checks. */
export const REVOCATIONS_REFRESH_MS = 5_000

export interface ConductorRevocationsInit {
  conductor: Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  /** Called once for each other agent found revoked, the ones held at the first read included. */
  onRevoked: (agent: string) => void
  logger: Pick<Logger, 'info' | 'debug'>
  refreshMs?: number
}

export class ConductorRevocations {
  /** Revocations are never undone: what one read saw stays, whatever a later read misses. */
  readonly #agents = new Set<string>()
  readonly #init: ConductorRevocationsInit
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(init: ConductorRevocationsInit) {
    this.#init = init
  }

  has(agent: string): boolean {
    return this.#agents.has(agent)
  }

  /** Reads the conductor's revocations now; the agents revoked so far. */
  async read(): Promise<ReadonlySet<string>> {
    const held = await this.#init.conductor.callZome('agent_registry', 'list_revocations', null)
    for (const { entry } of held) {
      if (entry.agent === null || this.#agents.has(entry.agent)) continue
      this.#agents.add(entry.agent)
      if (entry.agent === this.#init.conductor.agentPubKey) continue
      this.#init.logger.info({ agent: entry.agent }, 'revoked: dropping its connections')
      this.#init.onRevoked(entry.agent)
    }
    return this.#agents
  }

  /** Reads now, then every `refreshMs`; a failed read keeps what was read before. */
  async start(): Promise<void> {
    await this.read()
    this.#timer ??= setInterval(() => {
      this.read().catch((err: unknown) => this.#init.logger.debug({ err }, 'could not read the revocations'))
    }, this.#init.refreshMs ?? REVOCATIONS_REFRESH_MS)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
