/**
 * The dashboard's live feed: one producer of the snapshots GET /api/events pushes. While anyone
 * listens it looks at the peers every `tickMs` (a peer turns stale or offline by time alone, so no
 * event would say so) and sends them with their recent load, sends the tasks and the artifacts when
 * any changed, and the models when one is loaded or unloaded. Everything is computed once, whatever
 * the listeners.
 */
import type { Logger } from '../../log/logger.ts'
import type { ArtifactView, LiveEvent, ModelsView, PeersReply, TaskSummary } from '../contract/index.ts'
import { LoadHistory } from './load-history.ts'

export interface LiveFeedInit {
  peers: () => Promise<PeersReply>
  tasks?: () => Promise<TaskSummary[]>
  /** Absent where the daemon runs without artifacts. */
  artifacts?: () => Promise<ArtifactView[]>
  models: () => Promise<ModelsView>
  /** Calls back when a model is loaded or unloaded; answers the unsubscribe. */
  onModelsChange: (listener: () => void) => () => void
  /** Default 1 s. */
  tickMs?: number
  logger: Logger
}

type Listener = (event: LiveEvent) => void
/** The parts looked at every tick and sent whole when they changed. */
type ChangingPart = Extract<LiveEvent, { event: 'tasks' | 'artifacts' }>

export class LiveFeed {
  readonly #listeners = new Set<Listener>()
  readonly #history = new LoadHistory()
  #timer: NodeJS.Timeout | null = null
  #unwatchModels: (() => void) | null = null
  /** What each changing part last sent, as JSON. */
  readonly #lastSent = new Map<ChangingPart['event'], string>()
  #ticking = false

  readonly #init: LiveFeedInit

  constructor(init: LiveFeedInit) {
    this.#init = init
  }

  /** Sends the whole picture to `listener` now, then every change; answers the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener)
    if (this.#timer === null) this.#begin()
    void this.#guard(async () => {
      listener(await this.#peersEvent())
      for (const part of await this.#changingParts()) listener(part)
      listener({ event: 'models', data: await this.#init.models() })
    })
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0) this.#end()
    }
  }

  /** Stops ticking (the daemon stops). */
  close(): void {
    this.#listeners.clear()
    this.#end()
  }

  #begin(): void {
    this.#timer = setInterval(() => void this.#tick(), this.#init.tickMs ?? 1000)
    this.#timer.unref()
    this.#unwatchModels = this.#init.onModelsChange(
      () => void this.#guard(async () => this.#send({ event: 'models', data: await this.#init.models() })),
    )
  }

  #end(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    this.#unwatchModels?.()
    this.#unwatchModels = null
    this.#lastSent.clear()
  }

  async #tick(): Promise<void> {
    // A slow tick (a loaded machine) is not stacked under the next.
    if (this.#ticking) return
    this.#ticking = true
    await this.#guard(async () => {
      this.#send(await this.#peersEvent())
      for (const part of await this.#changingParts()) {
        const json = JSON.stringify(part.data)
        if (json === this.#lastSent.get(part.event)) continue
        this.#lastSent.set(part.event, json)
        this.#send(part)
      }
    })
    this.#ticking = false
  }

  async #changingParts(): Promise<ChangingPart[]> {
    const { tasks, artifacts } = this.#init
    const parts: ChangingPart[] = []
    if (tasks) parts.push({ event: 'tasks', data: { tasks: await tasks() } })
    if (artifacts) parts.push({ event: 'artifacts', data: { artifacts: await artifacts() } })
    return parts
  }

  async #peersEvent(): Promise<LiveEvent> {
    const reply = await this.#init.peers()
    this.#history.record(reply.peers)
    return { event: 'peers', data: { ...reply, history: this.#history.snapshot() } }
  }

  #send(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event)
  }

  async #guard(work: () => Promise<void>): Promise<void> {
    try {
      await work()
    } catch (err) {
      this.#init.logger.warn({ err }, 'the live feed could not send an update')
    }
  }
}
