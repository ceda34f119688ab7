/**
 * Retires the invites of the 0.1.0 form (issue 55, point 1). Such a grant is redeemed at its joiner's
 * own genesis time, so anyone who ever held an invite could copy a member's grant from its genesis,
 * date a genesis before the member's, and take its place. Once every member reads witnessed grants,
 * an admin's peer seals them: it writes a `LegacySeal` listing each use of a 0.1.0 grant it counts as
 * a member now, and from then on every peer's rules and member gate admit a legacy grant's holder only
 * when a seal lists it. Nothing to do on a mesh founded on 0.2.0, whose grants are all witnessed.
 */
import { type LegacySeal, LIMITS } from '../../zomes-bindings/index.ts'
import type { Startable } from '../interface/startable.ts'
import type { Logger } from '../log/logger.ts'

export type LegacyUse = LegacySeal['uses'][number]

export type SealPlan = { seals: LegacyUse[][] } | { wait: string }

/**
 * What to seal now: the uses not sealed yet, in seals of at most what one holds; or why not yet (this
 * peer is no admin, a member still reads only 0.1.0 grants, nothing to seal), in that order.
 */
export function planLegacySeal(input: {
  admin: boolean
  everyMemberReadsWitnessed: boolean
  uses: readonly LegacyUse[]
  sealed: ReadonlySet<string> | null
  sealedKey: (use: LegacyUse) => string
}): SealPlan {
  if (!input.admin) return { wait: 'only an admin seals legacy invites' }
  if (!input.everyMemberReadsWitnessed)
    return { wait: 'a member of the mesh still runs Ripple 0.1.0, which reads no seal' }
  const due = input.uses.filter((use) => !input.sealed?.has(input.sealedKey(use)))
  if (due.length === 0) return { wait: 'no use of a 0.1.0 invite is left unsealed' }
  const max = LIMITS.legacy_seal.uses.max
  const seals: LegacyUse[][] = []
  for (let i = 0; i < due.length; i += max) seals.push(due.slice(i, i + max))
  return { seals }
}

export interface LegacySealerInit {
  admin: boolean
  everyMemberReadsWitnessed: () => boolean
  /** The uses of 0.1.0 grants by agents this peer counts as members now. */
  uses: () => LegacyUse[]
  sealed: () => ReadonlySet<string> | null
  sealedKey: (use: LegacyUse) => string
  write: (seal: LegacySeal) => Promise<unknown>
  /** How often it looks again (members upgrade at their own pace). */
  intervalMs: number
  logger: Logger
}

export class LegacySealer implements Startable {
  readonly #init: LegacySealerInit
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | null = null

  constructor(init: LegacySealerInit) {
    this.#init = init
  }

  async start(): Promise<void> {
    if (!this.#init.admin) return
    this.#timer = setInterval(() => void this.sealDue().catch(() => {}), this.#init.intervalMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.#running?.catch(() => {})
  }

  /** Seals what is due now; resolves to how many uses it sealed. One run at a time. */
  sealDue(): Promise<number> {
    this.#running ??= this.#seal().finally(() => {
      this.#running = null
    })
    return this.#running
  }

  async #seal(): Promise<number> {
    const { logger } = this.#init
    const everyMemberReadsWitnessed = this.#init.everyMemberReadsWitnessed()
    const plan = planLegacySeal({
      admin: this.#init.admin,
      everyMemberReadsWitnessed,
      // The uses are a walk of every chain's genesis: not taken while the mesh could not be sealed anyway.
      uses: everyMemberReadsWitnessed ? this.#init.uses() : [],
      sealed: this.#init.sealed(),
      sealedKey: this.#init.sealedKey,
    })
    if ('wait' in plan) {
      logger.debug({ why: plan.wait }, 'legacy invites not sealed now')
      return 0
    }
    let count = 0
    for (const uses of plan.seals) {
      await this.#init.write({ uses })
      count += uses.length
    }
    logger.info(
      { uses: count },
      `sealed the invites of the 0.1.0 form: from now on they admit only the ${count} machine(s) that joined with them`,
    )
    return count
  }
}
