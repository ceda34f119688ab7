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

export class PeerVersions implements MeshVersions {
  readonly #own: ReleaseStatement
  readonly #self: string | null
  readonly #stated = new Map<string, ReleaseStatement>()
  #members: () => Iterable<string>
  readonly #logger: Logger | undefined

  constructor(init: {
    own?: ReleaseStatement
    /** This peer's agent (its `of` is `own`). */
    self?: string | null
    /** The members to gate on until `useMembers`; default: every peer met. */
    members?: () => Iterable<string>
    logger?: Logger
  }) {
    this.#own = init.own ?? OWN_STATEMENT
    this.#self = init.self ?? null
    this.#members = init.members ?? (() => this.#stated.keys())
    this.#logger = init.logger
  }

  get own(): ReleaseStatement {
    return this.#own
  }

  /** Sets who the members are (the registry's online and stale peers). */
  useMembers(members: () => Iterable<string>): void {
    this.#members = members
  }

  /** What `agent` said in its hello; logged once per peer per change when it differs from this release. */
  record(agent: string, statement: ReleaseStatement): void {
    const before = this.#stated.get(agent)
    this.#stated.delete(agent)
    this.#stated.set(agent, statement)
    if (this.#stated.size > MAX_KEPT) this.#stated.delete(this.#evictable())
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(statement)) return
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
   * The statement to drop when full: the oldest of an agent that is not a member, so peers that hold
   * only the network key cannot push members' statements out (and so hold new forms back).
   */
  #evictable(): string {
    const members = new Set(this.#members())
    for (const agent of this.#stated.keys()) if (!members.has(agent)) return agent
    return this.#stated.keys().next().value as string
  }

  of(agent: string): ReleaseStatement | undefined {
    return agent === this.#self ? this.#own : this.#stated.get(agent)
  }

  everySpeaks(protocol: ProtocolName, version: number): boolean {
    const speaks = (s: ReleaseStatement) => (s.protocols[protocol] ?? 0) >= version
    if (!speaks(this.#own)) return false
    for (const agent of this.#members()) {
      if (agent !== this.#self && !speaks(this.#stated.get(agent) ?? UNSTATED)) return false
    }
    return true
  }
}
