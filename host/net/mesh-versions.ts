/**
 * What the mesh's members speak, as this peer heard it in their hellos and their mesh-wide heartbeats
 * (gossip-signal-transport.ts: most members of a big mesh never connect): the statements by agent, and
 * the gate for writing a new form (`everySpeaks`). Which agents count as members is set by the layer
 * that knows (the registry: every member heard from lately, online or stale, and just after a start every
 * member known); until it does, the peers
 * connected now.
 *
 * A member this peer never heard state its release (never met, and its heartbeats carry none: an
 * earlier release's) counts as a release before 0.2.0 (UNSTATED): a new form waits until this peer has
 * heard the member say it reads it, since a wrong guess splits the mesh while a late switch only waits.
 * What was heard is kept across restarts (./heard-releases-file.ts: `recall` at start, `onChange` to
 * write it again): a restarted peer has heard nobody yet, and taking every member for an earlier
 * release held each new form back (records unsharded: full replication) until it heard them again.
 */
import {
  type MeshVersions,
  OWN_STATEMENT,
  type ProtocolName,
  type ReleaseStatement,
  UNSTATED,
} from '../interface/release.ts'
import { gapText } from '../interface/version-gap.ts'
import type { Logger } from '../log/logger.ts'

/** Agents whose statements are kept (the oldest dropped past it): bounds memory whoever connects. */
const MAX_KEPT = 4096

/** What an agent stated, and when this peer heard it last (ms since the epoch, this peer's clock). */
export interface HeardStatement {
  agent: string
  statement: ReleaseStatement
  at: number
}

export class PeerVersions implements MeshVersions {
  readonly #own: ReleaseStatement
  readonly #self: string | null
  /** `recalled`: heard by an earlier run only (its log line is due again when heard in this one). */
  readonly #stated = new Map<string, { statement: ReleaseStatement; at: number; recalled: boolean }>()
  readonly #changed = new Set<() => void>()
  #members: () => Iterable<string>
  readonly #logger: Logger | undefined
  readonly #now: () => number

  constructor(init: {
    own?: ReleaseStatement
    /** This peer's agent (its `of` is `own`). */
    self?: string | null
    /** The members to gate on until `useMembers`; default: every peer met. */
    members?: () => Iterable<string>
    logger?: Logger
    /** Milliseconds since the epoch; injectable for tests. */
    now?: () => number
  }) {
    this.#own = init.own ?? OWN_STATEMENT
    this.#self = init.self ?? null
    this.#members = init.members ?? (() => this.#stated.keys())
    this.#logger = init.logger
    this.#now = init.now ?? Date.now
  }

  get own(): ReleaseStatement {
    return this.#own
  }

  /** Sets who the members are (the registry's online and stale peers). */
  useMembers(members: () => Iterable<string>): void {
    this.#members = members
  }

  /**
   * What `agent` stated (its hello, or a heartbeat); logged once per peer per change (and once per run)
   * when it differs from this release.
   */
  record(agent: string, statement: ReleaseStatement): void {
    const before = this.#stated.get(agent)
    this.#keep({ agent, statement, at: this.#now() }, false)
    const same = before !== undefined && JSON.stringify(before.statement) === JSON.stringify(statement)
    if (!same) for (const listener of this.#changed) listener()
    if (same && !before.recalled) return
    const gap = gapText(agent, this.#own, statement)
    if (gap !== null) this.#logger?.warn({ peer: agent, release: statement.release }, gap)
    else if (statement.release !== this.#own.release) {
      const said = statement === UNSTATED ? ' (it states no version: a release before 0.2.0)' : ''
      this.#logger?.info(
        { peer: agent, release: statement.release },
        `peer ${agent} runs Ripple ${statement.release}${said}, this peer ${this.#own.release}: both speak the same protocol versions`,
      )
    }
  }

  /**
   * What an earlier run of this peer heard (kept in the data dir), for the agents not heard since:
   * taken as heard then, so a member later heard stating another release replaces it as any statement does.
   */
  recall(heard: Iterable<HeardStatement>): void {
    for (const entry of heard) if (!this.#stated.has(entry.agent)) this.#keep(entry, true)
  }

  /** Every statement held, with when it was heard: what is kept across restarts. */
  heard(): HeardStatement[] {
    return [...this.#stated].map(([agent, { statement, at }]) => ({ agent, statement, at }))
  }

  /** Calls `listener` when an agent states a release it had not (not at each heartbeat saying the same); returns its remover. */
  onChange(listener: () => void): () => void {
    this.#changed.add(listener)
    return () => this.#changed.delete(listener)
  }

  #keep({ agent, statement, at }: HeardStatement, recalled: boolean): void {
    this.#stated.delete(agent)
    this.#stated.set(agent, { statement, at, recalled })
    if (this.#stated.size > MAX_KEPT) this.#stated.delete(this.#evictable())
  }

  /**
   * The statement to drop when full: the oldest of an agent that is not a member, so peers that hold
   * only the network key cannot push members' statements out (and so hold new forms back).
   */
  #evictable(): string {
    const members = new Set(this.#members())
    for (const agent of this.#stated.keys()) if (!members.has(agent)) return agent
    return this.#stated.keys().next().value as string
  }

  of(agent: string): ReleaseStatement | undefined {
    return agent === this.#self ? this.#own : this.#stated.get(agent)?.statement
  }

  everySpeaks(protocol: ProtocolName, version: number): boolean {
    const speaks = (s: ReleaseStatement) => (s.protocols[protocol] ?? 0) >= version
    if (!speaks(this.#own)) return false
    for (const agent of this.#members()) {
      if (agent !== this.#self && !speaks(this.of(agent) ?? UNSTATED)) return false
    }
    return true
  }
}
