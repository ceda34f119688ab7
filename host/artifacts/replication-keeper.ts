/**
 * Keeps artifacts at their replication factor from this peer's side: each round (on a timer, and
 * when artifact_index records arrive) it plans with `planReplication` and pins what falls to it,
 * one at a time. An artifact whose bytes do not match it is never tried again here. What it pinned
 * only to replicate it releases again when the artifact turns out to have more holders than asked,
 * and when it keeps more than its quota (lowered since) it releases until it fits.
 */
import type { DnaName } from '../../zomes-bindings/index.ts'
import type { Startable } from '../interface/startable.ts'
import type { Logger } from '../log/logger.ts'
import { DueRead } from '../runtime/due-read.ts'
import type { ArtifactsPort, ArtifactView } from './artifacts-port.ts'
import { planRelease, planReplication, planTrim } from './replication-plan.ts'

export interface ReplicationKeeperInit {
  artifacts: Pick<ArtifactsPort, 'list' | 'pin' | 'unpin' | 'room' | 'excess' | 'agent' | 'replicas'>
  /** Agents not offline (past the network's timeout), this one included. */
  alivePeers: () => Promise<string[]>
  /** The artifacts are read again when ops of artifact_index were stored here, else at every round. */
  onRecordsStored?: (dna: DnaName, listener: () => void) => () => void
  /** Default 5 s. */
  intervalMs?: number
  /** With `onRecordsStored`, how often the artifacts are read all the same; default 30 s. */
  rereadMs?: number
  /** How long an artifact may stay short before any peer with room takes it; default 4 rounds. */
  graceMs?: number
  logger: Logger
}

export class ReplicationKeeper implements Startable {
  readonly #init: ReplicationKeeperInit
  readonly #shortSince = new Map<string, number>()
  readonly #refused = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined
  #running: Promise<void> | null = null
  #again = false
  #stopped = false
  readonly #abort = new AbortController()
  readonly #reads: DueRead
  /** The artifacts and their pin holders as last read. */
  #views: ArtifactView[] = []

  constructor(init: ReplicationKeeperInit) {
    this.#init = init
    this.#reads = new DueRead(init.onRecordsStored ? (init.rereadMs ?? 30_000) : 0)
  }

  async start(): Promise<void> {
    const interval = this.#init.intervalMs ?? 5_000
    this.#timer = setInterval(() => this.wake(), interval)
    this.#unsubscribe = this.#init.onRecordsStored?.('artifact_index', () => {
      this.#reads.markStale()
      this.wake()
    })
    this.wake()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#unsubscribe?.()
    this.#abort.abort()
    await this.#running?.catch(() => {})
  }

  /** Runs a round now, or right after the one running. */
  wake(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = this.round()
      .catch((err: unknown) => this.#init.logger.warn({ err }, 'replication round failed'))
      .finally(() => {
        this.#running = null
        if (this.#again) {
          this.#again = false
          this.wake()
        }
      })
  }

  /**
   * One pass: plan, then pin each CID that falls to this peer. Every round weighs who is alive now;
   * the artifacts are read only when they may have changed (see `DueRead`).
   */
  async round(): Promise<void> {
    const { artifacts, logger } = this.#init
    await this.#reads.run(async () => {
      this.#views = await artifacts.list()
    })
    const views = this.#views
    const alive = new Set(await this.#init.alivePeers())
    alive.add(artifacts.agent)
    const now = Date.now()
    const grace = this.#init.graceMs ?? 4 * (this.#init.intervalMs ?? 5_000)
    const planned = views
      .filter((v) => !this.#refused.has(v.artifact.entry.cid))
      .map((v) => ({
        cid: v.artifact.entry.cid,
        author: v.artifact.author,
        size: v.artifact.entry.size,
        replication: v.artifact.entry.replication,
        holders: v.holders.map((h) => h.author),
      }))
    const overdue = new Set<string>()
    for (const a of planned) {
      const live = a.holders.filter((h) => alive.has(h)).length
      if (live >= a.replication) {
        this.#shortSince.delete(a.cid)
        continue
      }
      const since = this.#shortSince.get(a.cid) ?? now
      this.#shortSince.set(a.cid, since)
      if (now - since >= grace) overdue.add(a.cid)
    }
    const picks = planReplication({
      self: artifacts.agent,
      alive,
      artifacts: planned,
      room: artifacts.room(views),
      overdue,
    })
    for (const cid of picks) {
      if (this.#stopped) return
      // Its pin commitment changes the artifact's holders.
      this.#reads.markStale()
      try {
        await artifacts.pin(cid, { signal: this.#abort.signal, replica: true })
        logger.info({ cid }, 'replicated artifact')
      } catch (err) {
        if ((err as Error).name === 'ArtifactMismatchError') this.#refused.add(cid)
        logger.warn({ err, cid }, 'could not replicate artifact')
      }
    }
    const trims = planTrim({ self: artifacts.agent, alive, artifacts: planned, replicas: artifacts.replicas })
    const releases = planRelease({
      self: artifacts.agent,
      alive,
      artifacts: planned,
      excess: artifacts.excess(views),
    })
    for (const cid of new Set([...trims, ...releases])) {
      if (this.#stopped) return
      this.#reads.markStale()
      await artifacts.unpin(cid)
      logger.info(
        { cid, why: trims.includes(cid) ? 'surplus replica' : 'over the quota' },
        'released an artifact',
      )
    }
  }
}
