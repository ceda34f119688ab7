/**
 * Denials that stay on this peer (issue 55, point 6): a request routed straight to its runner is
 * nobody else's business, so its runner's policy denial is said in the runner's own log, never as a
 * public Decision naming requester, runner, model and request. Bounded: one line per requester and
 * reason per LINE_EVERY_MS (with how many more came since), so a member sending offers that are denied
 * costs the runner a line a minute, not a write per offer. Pure but for the logger.
 */
import type { Logger } from '../log/logger.ts'
import type { PolicyVerdict } from './cedar-engine.ts'
import type { DecisionInput } from './run-question.ts'

/** How often one requester's denials for one reason are said again (those between are counted). */
export const LINE_EVERY_MS = 60_000
/** Requesters and reasons remembered (the oldest forgotten past it): bounds memory whoever asks. */
const KEPT = 4096

interface Said {
  at: number
  /** Denials since the line was said. */
  more: number
}

export class LocalDenials {
  readonly #said = new Map<string, Said>()
  readonly #logger: Logger
  readonly #now: () => number

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#logger = logger
    this.#now = now
  }

  /** Notes a denial of `input`; true when it was said now (false: counted for the next line). */
  note(input: DecisionInput, verdict: PolicyVerdict): boolean {
    const now = this.#now()
    const key = `${input.run.requester}|${input.action}|${verdict.reason}`
    const said = this.#said.get(key)
    if (said !== undefined && now - said.at < LINE_EVERY_MS) {
      said.more += 1
      return false
    }
    this.#said.delete(key)
    this.#said.set(key, { at: now, more: 0 })
    if (this.#said.size > KEPT) this.#said.delete(this.#said.keys().next().value!)
    this.#logger.info(
      {
        requester: input.run.requester,
        action: input.action,
        model: input.run.requirements.model,
        request: input.run.id,
        policies: verdict.policyIds,
        ...(said !== undefined && said.more > 0 && { more_since_last: said.more }),
      },
      `denied a request by policy: ${verdict.reason} (on record here only)`,
    )
    return true
  }
}
