/**
 * What a requester learns of its runners from the requests it sends them: how fast each answers a
 * model (runner-speed.ts) and whether it failed lately (circuit-breaker.ts); and the route plan
 * ranked by both (speed-rank.ts). Each attempt is watched: its first token timed from the moment it
 * was sent, its decode speed taken from the leaf its runner signed for it, its failure opening the
 * runner's breaker.
 */

import type { RunProgress } from '../../interface/run-event.ts'
import { mistakeAnywhere } from '../run-errors.ts'
import { CircuitBreakers } from './circuit-breaker.ts'
import type { Turndown } from './direct-errors.ts'
import type { RouteCandidate } from './route-plan.ts'
import { type SpeedFigures, SpeedTable } from './runner-speed.ts'
import type { CarriedLeaf } from './served-records.ts'
import { rankBySpeed } from './speed-rank.ts'

export interface AttemptWatch {
  /** Relays a runner's event on (the caller's onEvent), timing its first token. */
  relay: (event: RunProgress) => void
  /** The runner answered; `signed` is its leaf, once its window is signed. */
  answered: (signed: Promise<CarriedLeaf | null>) => void
  /** The runner turned the request down (a busy runner or a caller's mistake has not failed). */
  refused: (refusal: Omit<Turndown, 'agent'>) => void
  /** The runner was lost after its answer began. */
  lost: () => void
}

export interface WatchedAttempt {
  agent: string
  model: string
  /** The request's hash and this peer: the signed leaf must be for them. */
  request: string
  requester: string
  /** A queued try waits for a slot: its first token times the wait, not the runner. */
  queued: boolean
  onEvent?: ((event: RunProgress) => void) | undefined
}

export class RunnerHealth {
  readonly speeds = new SpeedTable()
  readonly breakers = new CircuitBreakers()

  /** The plan ranked: fast runners first within a tier, the home in its place, open breakers last. */
  rank<C extends RouteCandidate>(
    candidates: readonly C[],
    model: string,
    home: string | null | undefined,
    advertised: (agent: string) => SpeedFigures | null,
    now = Date.now(),
  ): C[] {
    return rankBySpeed({
      candidates,
      home,
      figures: (agent) => this.speeds.figures(agent, model, advertised(agent), now),
      passable: (agent) => this.breakers.passable(agent, now),
    })
  }

  /** Starts watching one attempt, sent now. */
  watch(attempt: WatchedAttempt): AttemptWatch {
    const { agent, model } = attempt
    const sentAt = Date.now()
    let firstAt: number | null = null
    let loaded = false
    this.breakers.on(agent, { type: 'sent' }, sentAt)
    const first = () => {
      if (firstAt !== null) return
      firstAt = Date.now()
      // A model's load, or a wait for a slot, is not the runner's pace.
      if (!loaded && !attempt.queued) this.speeds.firstToken(agent, model, firstAt - sentAt, firstAt)
    }
    return {
      relay: (event) => {
        if (event.type === 'load') loaded = true
        else first()
        attempt.onEvent?.(event)
      },
      answered: (signed) => {
        first()
        this.breakers.on(agent, { type: 'succeeded' })
        void signed.then((carried) => {
          const leaf = carried?.proof.leaf
          if (
            leaf === undefined ||
            leaf.request !== attempt.request ||
            leaf.requester !== attempt.requester ||
            leaf.model !== model ||
            leaf.status !== 'ok'
          )
            return
          this.speeds.decoded(agent, model, leaf.tokens_out, (leaf.finished_at - leaf.started_at) / 1000)
        })
      },
      refused: (refusal) => {
        const failed =
          refusal.why === 'unavailable/unreachable' ||
          (refusal.why === 'failed' && (refusal.code === undefined || !mistakeAnywhere(refusal.code)))
        // Anything else said the runner is alive: a half-open probe is over.
        this.breakers.on(agent, { type: failed ? 'failed' : 'succeeded' })
      },
      lost: () => this.breakers.on(agent, { type: 'failed' }),
    }
  }
}
