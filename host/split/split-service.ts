/**
 * Models split over peers. This peer serves its memory to heads (an RPC worker behind the mesh's
 * tunnel), and, as a head, loads a model it has the file of but cannot hold alone: it plans the split
 * from what the mesh advertises (free model memory in heartbeats, engine builds in capability tags,
 * round trips it measures), opens a tunnel to each worker and runs llama-server with `--rpc` over
 * them (its own share on its own worker). The model is then loaded like any other: `/v1` routes to it.
 * A worker that goes away ends llama-server (ggml's RPC client aborts): the requests in flight fail
 * naming the worker, and the split is planned again without it.
 */
import type { Stream } from '@libp2p/interface'
import type { SplitHeld } from '../../zomes-bindings/index.ts'
import { modelMemoryBytes } from '../inference/memory-fit.ts'
import type { EngineLayout, ListedModel } from '../inference/model-manager.ts'
import type { ModelsPort } from '../inference/models-port.ts'
import type { AgentPort } from '../interface/agent-port.ts'
import type { Failure } from '../interface/failure-kind.ts'
import type { PeerEntry } from '../interface/live-peers.ts'
import type { LongOperationOptions } from '../interface/progress.ts'
import type { Logger } from '../log/logger.ts'
import type { CacheUse } from './rpc-cache.ts'
import { RpcTunnel, serveRpcTunnel } from './rpc-tunnel.ts'
import type { RpcWorker } from './rpc-worker.ts'
import { planSplit, type SplitCandidate, type SplitShare, tensorSplit } from './split-plan.ts'
import type { SplitsPort, SplitView } from './splits-port.ts'

export interface SplitServiceInit {
  self: string
  models: Pick<
    ModelsPort,
    'onLoaded' | 'onChange' | 'loadedNames' | 'load' | 'freeModelBytes' | 'contextSize' | 'backends'
  >
  /** Null on a backend that cannot reach other peers' services (Holochain): no splits there. */
  agents: AgentPort<Stream> | null
  worker: RpcWorker
  peers: () => Promise<PeerEntry[]>
  /** The engine build a peer advertises in its capability's tags (null: none): a worker must run the head's. */
  engineBuildOf: (tags: readonly string[]) => string | null
  logger: Logger
}

/** Thrown when no split can serve the model now (the reason says what is short). */
export class SplitUnavailableError extends Error {
  static override readonly name = 'SplitUnavailableError'
  // Too little memory in the mesh now: a condition that changes, not a bad request.
  readonly failureKind: Failure = 'unavailable/no_room'
  constructor(model: string, reason: string) {
    super(`model "${model}" cannot be split over the mesh now: ${reason}`)
    this.name = 'SplitUnavailableError'
  }
}

/** Thrown into a split model's requests when one of its workers went away. */
export class SplitWorkerLostError extends Error {
  static override readonly name = 'SplitWorkerLostError'
  constructor(model: string, worker: string, why: string) {
    super(`model "${model}" lost split worker ${worker} (${why}); the split is planned again without it`)
    this.name = 'SplitWorkerLostError'
  }
}

interface Split {
  plan: SplitShare[]
  tunnels: RpcTunnel[]
  blocks: number
  /** Its model loaded: from then on the split ends when the model is gone (not while it loads). */
  running: boolean
}

// A worker that went away is left out of new plans for a while (its heartbeats may still be fresh).
const LOST_WORKER_MS = 60_000
const REPLAN_DELAY_MS = 1_000

export class SplitService implements SplitsPort {
  readonly #splits = new Map<string, Split>()
  readonly #lostAt = new Map<string, number>()
  #stopping = false

  readonly #init: SplitServiceInit

  constructor(init: SplitServiceInit) {
    this.#init = init
  }

  /** What the split worker's tensor cache holds against its cap (null until first kept). */
  cacheUse(): CacheUse | null {
    return this.#init.worker.cacheUse
  }

  async start(): Promise<void> {
    // The tensor cache a last run left is held to its cap now, not when a head first needs this worker.
    await this.#init.worker
      .cache()
      .catch((err: unknown) => this.#init.logger.warn({ err }, 'could not trim the RPC tensor cache'))
    if (this.#init.agents)
      await serveRpcTunnel(this.#init.agents, this.#init.worker, () => this.#buildId(), this.#init.logger)
    this.#init.models.onLoaded((name) => {
      const split = this.#splits.get(name)
      if (split) split.running = true
    })
    // A split whose model is gone (unloaded, or crashed) gives its tunnels back.
    this.#init.models.onChange(() => {
      const loaded = new Set(this.#init.models.loadedNames())
      for (const [name, split] of this.#splits)
        if (split.running && !loaded.has(name)) void this.#end(name, split)
    })
  }

  async stop(): Promise<void> {
    this.#stopping = true
    for (const split of this.#splits.values()) for (const tunnel of split.tunnels) await tunnel.close()
    this.#splits.clear()
    await this.#init.worker.stop()
  }

  views(): SplitView[] {
    return [...this.#splits.entries()].map(([model, split]) => ({
      model,
      peers: split.plan.map((s) => ({
        agent: s.agent,
        share: Math.round(s.share * 1000) / 1000,
        layers: Math.round(s.share * split.blocks),
        bytes: s.bytes,
      })),
      bytes_carried: split.tunnels.reduce((sum, t) => sum + t.bytes, 0),
    }))
  }

  /**
   * Loads `name` split over the mesh with this peer as its head, or whole here when it fits (then it
   * is an ordinary load): a load of the model manager's, shared and stopped as its loads are.
   */
  load(name: string, options: LongOperationOptions = {}): ReturnType<ModelsPort['load']> {
    return this.#init.models.load(name, { ...options, plan: (info, load) => this.#plan(info, load) })
  }

  /** The split the model's load runs with (its tunnels open), or null when it fits here whole. */
  async #plan(info: ListedModel, { signal }: Required<LongOperationOptions>): Promise<EngineLayout | null> {
    const { models } = this.#init
    const { name } = info
    const agents = this.#init.agents
    if (!agents) throw new SplitUnavailableError(name, 'this backend has no peer streams (Holochain)')
    const build = await this.#buildId()
    const candidates: SplitCandidate[] = [
      {
        agent: this.#init.self,
        hasFile: true,
        freeBytes: models.freeModelBytes(),
        rttMs: 0,
        engineBuild: build,
      },
      ...(await this.#candidates(info, agents)),
    ]
    const plan = planSplit(candidates, {
      needBytes: modelMemoryBytes(info, models.contextSize),
      head: this.#init.self,
    })
    if (plan.kind === 'single') return null
    if (plan.kind === 'none') {
      const skipped = plan.skipped.map((s) => `${s.agent.slice(0, 12)}…: ${s.reason}`)
      throw new SplitUnavailableError(name, [plan.reason, ...skipped].join('; '))
    }
    const split: Split = { plan: plan.shares, tunnels: [], blocks: info.blocks, running: false }
    const ports: number[] = []
    try {
      for (const share of plan.shares) {
        if (share.agent === this.#init.self) ports.push(await this.#init.worker.port())
        else {
          const tunnel = await RpcTunnel.open(agents, share.agent, build, signal)
          split.tunnels.push(tunnel)
          ports.push(tunnel.port)
        }
      }
    } catch (err) {
      await this.#end(name, split)
      throw err
    }
    this.#init.logger.info({ model: name, shares: plan.shares }, 'loading a model split over peers')
    this.#splits.set(name, split)
    return {
      args: [
        '--rpc',
        ports.map((p) => `127.0.0.1:${p}`).join(','),
        '--tensor-split',
        tensorSplit(plan.shares),
      ],
      memoryBytes: plan.shares[0]?.bytes ?? 0,
      blame: async (exit) => this.#lost(name, split, exit.reason),
      release: () => this.#end(name, split),
    }
  }

  /** A split is over (its load failed, or its model is gone): its tunnels are given back. */
  async #end(name: string, split: Split): Promise<void> {
    if (this.#splits.get(name) === split) this.#splits.delete(name)
    for (const tunnel of split.tunnels) await tunnel.close()
  }

  /** The error a split's crash is: the worker whose tunnel broke, named; then plans again without it. */
  #lost(name: string, split: Split, reason: string): Error {
    const broken = split.tunnels.find((t) => t.broken !== null)
    const error = broken
      ? new SplitWorkerLostError(name, broken.agent, broken.broken ?? 'its tunnel broke')
      : new SplitWorkerLostError(name, 'unknown', reason)
    if (broken) this.#lostAt.set(broken.agent, Date.now())
    if (!this.#stopping)
      setTimeout(() => {
        this.load(name).catch((err: unknown) =>
          this.#init.logger.warn(
            { model: name, err: (err as Error).message },
            'could not split the model again',
          ),
        )
      }, REPLAN_DELAY_MS).unref()
    return error
  }

  async #candidates(model: ListedModel, agents: AgentPort<Stream>): Promise<SplitCandidate[]> {
    const now = Date.now()
    const entries = (await this.#init.peers()).filter(
      (p) =>
        !p.self &&
        p.status === 'online' &&
        p.capability !== null &&
        now - (this.#lostAt.get(p.agent) ?? 0) > LOST_WORKER_MS,
    )
    return Promise.all(
      entries.map(async (p): Promise<SplitCandidate> => {
        const capability = p.capability!
        const ramFree = capability.hardware.ram_bytes * (1 - (p.load?.ram_pct ?? 100) / 100)
        return {
          agent: p.agent,
          hasFile: capability.inference.models.some((m) => m.file_hash === model.sha256),
          // A split of this model this peer headed before (lost a worker) is over: its share here is free.
          freeBytes:
            (p.load?.model_free_bytes ?? ramFree) + heldFor(p.load?.split_held, this.#init.self, model.name),
          rttMs: await agents.rtt(p.agent).catch(() => null),
          engineBuild: this.#init.engineBuildOf(capability.tags) ?? 'unknown',
        }
      }),
    )
  }

  async #buildId(): Promise<string> {
    return (await this.#init.models.backends.build()).id
  }
}

/** What a worker says it holds for `head`'s split of `model`. */
function heldFor(held: readonly SplitHeld[] | undefined, head: string, model: string): number {
  return (held ?? []).filter((h) => h.head === head && h.model === model).reduce((sum, h) => sum + h.bytes, 0)
}
