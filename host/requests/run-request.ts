/**
 * Running a request on the peers, for every edge (the endpoints, memory's embeddings): it resolves an
 * alias to the model it chooses (model-aliases.ts), checks that some peer has the model (404
 * otherwise) and the input, then takes the route the route table
 * (route-table.ts) chooses: straight to one runner (DirectInference; its signed record follows the
 * answer), or an `infer.generate` / `infer.embed` task for the scheduling round (the scheduler hands
 * it to the best peer, or to N with fan-out), whose tokens it relays and whose accepted Result's
 * output it answers, with the task and the peer that produced it. A task that no peer takes in time,
 * or that the scheduler says no peer will claim, is cancelled and answered 503 (429 when every peer
 * with the model is busy) with the scheduler's reason; a client that goes away cancels its task.
 */
import { type ModelInfo, NO_REQUIREMENTS, TaskOrderSchema } from '../../zomes-bindings/index.ts'
import { hasImages } from '../inference/vision.ts'
import type { PeerEntry } from '../interface/live-peers.ts'
import { TASK_DEFAULTS } from '../interface/task-defaults.ts'
import type { SchedulerPort } from '../scheduler/scheduler-port.ts'
import { isTerminal, type TaskOrder, type TaskView } from '../scheduler/scheduler-service.ts'
import { type FollowOptions, followToEnd, type TaskFollower } from '../scheduler/task-follow.ts'
import { acceptedOutput, acceptedResult, whyEnded } from '../scheduler/task-outcome.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
import { NoDirectRouteError } from './direct/direct-errors.ts'
import type { DirectInference } from './direct/direct-inference.ts'
import { imageRouteError } from './image-route.ts'
import { type ModelAlias, resolveModel } from './model-aliases.ts'
import { type PeerModel, peerModels, withOwnModel } from './peer-models.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from './requests-port.ts'
import { RELAY_START, relayStep } from './round-relay.ts'
import { routeFor } from './route-table.ts'
import { RunError } from './run-errors.ts'

export interface RequestRunnerInit {
  scheduler: Pick<SchedulerPort, 'submit' | 'view' | 'cancel' | 'watch'>
  workers: WorkersPort
  peers: () => Promise<PeerEntry[]>
  /** Route, then run: one answer goes straight to its runner; without it every request is a task. */
  direct?: Pick<DirectInference, 'run'>
  /** How long a task may wait for a peer to take it; default 30 s. */
  assignTimeoutMs?: number
  /** Every task it submits, as the task routes report theirs (the daemon's metrics follow them). */
  onSubmitted?: (task: string) => void
  /**
   * A usable model of that name in this peer's own models directory, read now: a file just copied in
   * is served here before its capability (its hash read first) reaches the mesh, this peer included.
   */
  ownModel?: (name: string) => Promise<ModelInfo | null>
  /** The model aliases in force (requests/alias-service.ts): a name they match runs the model they choose. */
  aliases?: () => Promise<ModelAlias[]>
}

const DEFAULTS = { assignTimeoutMs: 30_000 }

export class RequestRunner implements RequestsPort {
  readonly #init: RequestRunnerInit

  constructor(init: RequestRunnerInit) {
    this.#init = init
  }

  async models(): Promise<PeerModel[]> {
    return peerModels(await this.#init.peers())
  }

  async run(sent: InferenceRequest): Promise<InferenceAnswer> {
    let peers = await this.#init.peers()
    const models = peerModels(peers)
    // An alias's name, or one its pattern matches, runs the model the alias chooses now.
    const request =
      sent.model === undefined
        ? sent
        : { ...sent, model: modelToRun(sent.model, (await this.#init.aliases?.()) ?? [], models) }
    const model = models.find((m) => m.name === request.model)
    const own =
      model === undefined && request.model !== undefined && (await this.#init.ownModel?.(request.model))
    if (own) peers = withOwnModel(peers, own)
    else if (model === undefined && request.model !== undefined) {
      const names = models.map((m) => m.name).join(', ')
      throw new RunError(
        'not_found',
        'model_not_found',
        `the model "${request.model}" is on no peer of the mesh (${names ? `models: ${names}` : 'no peer has any model'})`,
        'model',
      )
    }
    // The worker's own check, so a bad input is a 400 here rather than a task no peer can run.
    const input = this.#init.workers.get(request.kind)?.input.safeParse(request.input)
    if (input && !input.success) {
      const issue = input.error.issues[0]
      throw new RunError(
        'invalid',
        'invalid_value',
        `invalid request: ${issue?.message}`,
        issue?.path.join('.') ?? null,
      )
    }
    const way = routeFor({ ...request, images: hasImages(request.input) })
    // The only refusals are combinations of the request's own `ripple` options.
    if (way.route === 'refused') throw new RunError('invalid', 'unsupported_combination', way.why, 'ripple')
    const images = imageRouteError(request, peers)
    if (images) throw images
    const direct = this.#init.direct
    if (way.route === 'direct' && direct && request.model !== undefined) {
      const answer = await this.#direct(direct, { ...request, model: request.model }, peers)
      if (answer !== null) return answer
    }
    // Named in the input too: a runner with several models must know which one is asked for.
    const asked = { ...request.input, ...(request.model === undefined ? {} : { model: request.model }) }
    const task: TaskOrder = TaskOrderSchema.parse({
      kind: request.kind,
      requirements: { ...NO_REQUIREMENTS, model: request.model ?? null },
      lease_ms: TASK_DEFAULTS.leaseMs,
      deadline: (Date.now() + TASK_DEFAULTS.timeoutMs) * 1000,
      max_attempts: TASK_DEFAULTS.maxAttempts,
      fan_out: request.fanOut,
    })
    const { action_hash: hash } = await this.#init.scheduler.submit(task, asked)
    this.#init.onSubmitted?.(hash)
    request.onEvent?.({ type: 'submitted', task: hash })
    const { view, gaveUp } = await this.#follow(hash, request)
    if (view.state.status === 'done') {
      return { task: hash, peer: acceptedResult(view)?.author ?? '', output: acceptedOutput(view) }
    }
    const reason = whyEnded(view)
    // Never taken by any peer: the mesh could not serve it; taken and failed: the peers' answers failed.
    if (view.state.assignments.length === 0) throw unservable(hash, model, reason)
    const errors = view.state.results.flatMap((r) => (r.entry.error ? [r.entry.error] : []))
    // Given up here once taken, the view was read before the cancel: it does not say why yet.
    const why = [gaveUp ?? reason, ...errors].filter(Boolean).join('; ')
    throw new RunError(
      'failed/upstream',
      `task_${view.state.status}`,
      `task ${hash} ${view.state.status}: ${why}`,
    )
  }

  async #direct(
    direct: Pick<DirectInference, 'run'>,
    request: InferenceRequest & { model: string },
    peers: PeerEntry[],
  ): Promise<InferenceAnswer | null> {
    try {
      const answer = await direct.run({
        kind: request.kind,
        model: request.model,
        input: { ...request.input, model: request.model },
        signal: request.signal,
        peers,
        onEvent: request.onEvent,
        ...(request.whole && { whole: true }),
        ...(request.session && { session: request.session }),
        ...(request.priority && { priority: request.priority }),
      })
      return { task: answer.request, peer: answer.peer, output: answer.output }
    } catch (err) {
      // Not reachable straight (the Holochain backend carries no mesh streams): the round serves it.
      // Else it ended as a run ends (NoRunnerError and RunnerLostError are RunErrors).
      if (err instanceof NoDirectRouteError) return null
      throw err
    }
  }

  /** Follows the task until it ends (or is given up); answers its final view, and why it was given up. */
  async #follow(hash: string, request: InferenceRequest): Promise<{ view: TaskView; gaveUp: string | null }> {
    const giveUp = new AbortController()
    const timer = setTimeout(
      () => giveUp.abort('no peer took it in time'),
      this.#init.assignTimeoutMs ?? DEFAULTS.assignTimeoutMs,
    )
    const onAbort = () => giveUp.abort('the client went away')
    request.signal.addEventListener('abort', onAbort)
    let state = RELAY_START
    const options = { single: request.fanOut === 1, streams: request.onEvent !== undefined }
    try {
      const view = await followToEnd(watched(this.#init.scheduler, giveUp), hash, {
        onEvent: (event) => {
          const step = relayStep(state, event, options)
          // Someone took it: no longer waiting for a taker.
          if (state.assignee === null && step.state.assignee !== null) clearTimeout(timer)
          state = step.state
          if (step.giveUp !== null) giveUp.abort(step.giveUp)
          else if (step.tell !== null) request.onEvent?.(step.tell)
        },
      })
      return { view, gaveUp: giveUp.signal.aborted ? String(giveUp.signal.reason) : null }
    } finally {
      clearTimeout(timer)
      request.signal.removeEventListener('abort', onAbort)
    }
  }
}

/**
 * The scheduler's own watch as a task follower: the task's events until it ends, then its view.
 * Given up (`giveUp` aborted, or cancelled as unclaimable), the view is read before the task is
 * cancelled with the reason, so it still says why nobody took it.
 */
function watched(
  scheduler: Pick<SchedulerPort, 'view' | 'cancel' | 'watch'>,
  giveUp: AbortController,
): TaskFollower<FollowOptions> {
  return {
    cancelTask: async (_hash, reason) => giveUp.abort(reason),
    followTask: (hash, options) =>
      new Promise<TaskView>((resolve, reject) => {
        let unwatch: (() => void) | null = null
        let ended = false
        const end = (outcome: Promise<TaskView>) => {
          if (ended) return
          ended = true
          giveUp.signal.removeEventListener('abort', onGiveUp)
          unwatch?.()
          outcome.then(resolve, reject)
        }
        const onGiveUp = () =>
          end(
            scheduler.view(hash).then(async (view) => {
              await scheduler.cancel(hash, String(giveUp.signal.reason)).catch(() => null)
              return view
            }),
          )
        giveUp.signal.addEventListener('abort', onGiveUp)
        unwatch = scheduler.watch(hash, (event) => {
          if (ended) return
          void Promise.resolve(options?.onEvent?.(event)).catch((err: unknown) => end(Promise.reject(err)))
          if (event.type === 'status' && isTerminal(event.status)) end(scheduler.view(hash))
        })
        // Ended while the watch began (a task already over): nothing more to hear.
        if (ended) unwatch()
      }),
  }
}

/** The model a request for `asked` runs (model-aliases.ts); an alias none of whose models is served: not found. */
export function modelToRun(
  asked: string,
  aliases: readonly ModelAlias[],
  models: readonly Pick<PeerModel, 'name' | 'peers' | 'busy'>[],
): string {
  const chosen = resolveModel(asked, aliases, models)
  if (chosen.model === null) throw new RunError('not_found', 'model_not_found', chosen.why, 'model')
  return chosen.model
}

function unservable(task: string, model: PeerModel | undefined, reason: string): RunError {
  if (model === undefined)
    return new RunError(
      'unavailable',
      'no_capacity',
      `no peer can serve task ${task} (cancelled it): ${reason}`,
    )
  const online = model.peers.length
  if (online > 0 && model.busy.length === online) {
    return new RunError(
      'busy',
      'peers_busy',
      `every peer with model "${model.name}" is busy; try again shortly (${reason})`,
    )
  }
  return new RunError('unavailable', 'no_capacity', `no peer can serve model "${model.name}" now: ${reason}`)
}
