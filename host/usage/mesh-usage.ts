/**
 * A member's usage across the mesh, on request (issue 47, point 1): this peer asks each online peer
 * over `usage/1.0.0` what that peer signed about it (mesh-usage-wire.ts) and shows each peer's answer
 * and their sum; it answers others alike, about the asker only. A peer of a release that does not
 * speak it (0.1.0) is named with its release, not asked. An answer is a page read from this peer's
 * index (usage-index.ts), and each peer's asks are rate limited (ask-rate.ts); the asker follows the
 * pages up to MAX_PAGES.
 */
import type { AgentPort } from '../interface/agent-port.ts'
import type { KnownPeer } from '../interface/live-peers.ts'
import { missingVersionText } from '../interface/version-gap.ts'
import { decodeWire, encodeWire } from '../membership/admission-wire.ts'
import { AskRate } from './ask-rate.ts'
import type { MeshUsagePort, MeshUsageView, PeerUsage, UsageTotals } from './mesh-usage-port.ts'
import { ANSWER_ROWS, USAGE_PROTOCOL, UsageAnswerSchema, UsageAskSchema } from './mesh-usage-wire.ts'
import type { UsagePort } from './usage-port.ts'
import type { UsageRow } from './usage-totals.ts'

const ASK_TIMEOUT_MS = 10_000
/** Pages followed per peer: 31 days of a member's rows fit in a few (an answer past them is cut). */
const MAX_PAGES = 16
/** The protocol's name and major version as releases state them (release.ts). */
const [NAME, VERSION] = ['usage', 1]

/** What a peer answers `member`: its rows about that member alone, without its API keys. */
export function rowsAbout(rows: readonly UsageRow[], member: string): UsageRow[] {
  return rows.filter((r) => r.member === member).map((r) => ({ ...r, key: null }))
}

const zero = (): UsageTotals => ({ requests: 0, failed: 0, tokens_in: 0, tokens_out: 0, reasoning_tokens: 0 })

function add(into: UsageTotals, r: UsageTotals): UsageTotals {
  for (const k of ['requests', 'failed', 'tokens_in', 'tokens_out', 'reasoning_tokens'] as const)
    into[k] += r[k]
  return into
}

/** A peer's rows about this member as totals: `served` rows are it running this member's requests. */
export function totalsOf(rows: readonly UsageRow[]) {
  return {
    as_runner: rows.filter((r) => r.direction === 'served').reduce(add, zero()),
    as_requester: rows.filter((r) => r.direction === 'used').reduce(add, zero()),
  }
}

export interface MeshUsageInit {
  self: string
  agents: AgentPort<unknown>
  ledger: Pick<UsagePort, 'about'>
  peers: () => Promise<KnownPeer[]>
  now?: () => number
}

export class MeshUsage implements MeshUsagePort {
  readonly #init: MeshUsageInit
  readonly #rate = new AskRate()

  constructor(init: MeshUsageInit) {
    this.#init = init
  }

  async start(): Promise<void> {
    await this.#init.agents.answer(USAGE_PROTOCOL, async (request, asker) => {
      const allowed = this.#rate.take(asker, (this.#init.now ?? Date.now)())
      if (!allowed.ok) throw new Error(`too many usage asks; ask again in ${allowed.retryAfterS} s`)
      const ask = decodeWire(UsageAskSchema, request)
      if (ask === null) throw new Error('not a usage request')
      return encodeWire(this.#init.ledger.about(asker, ask.since, ANSWER_ROWS))
    })
  }

  stop(): Promise<void> {
    return this.#init.agents.unhandle(USAGE_PROTOCOL)
  }

  /** Each online peer's answer about this member (this peer's own rows about itself first), and their sum. */
  async ask(since: number): Promise<MeshUsageView> {
    const peers = (await this.#init.peers()).filter((p) => p.self || p.status === 'online')
    const answers = await Promise.all(peers.map((p) => this.#askOne(p, since)))
    const sum = { as_runner: zero(), as_requester: zero() }
    for (const a of answers) {
      add(sum.as_runner, a.as_runner)
      add(sum.as_requester, a.as_requester)
    }
    return { peers: answers.sort((a, b) => Number(b.self) - Number(a.self)), sum }
  }

  async #askOne(peer: KnownPeer, since: number): Promise<PeerUsage> {
    const release = peer.release?.release ?? null
    const base = { agent: peer.agent, name: peer.name, self: peer.self, release }
    const none = (message: string): PeerUsage => ({ ...base, message, ...totalsOf([]) })
    if (peer.self)
      return {
        ...base,
        message: null,
        ...totalsOf(this.#init.ledger.about(peer.agent, since, Infinity).rows),
      }
    const spoken = peer.release?.protocols[NAME]
    if (peer.release !== null && spoken !== VERSION)
      return none(
        missingVersionText(peer.agent, NAME, [VERSION], spoken ? [spoken] : [], release ?? undefined),
      )
    try {
      const rows: UsageRow[] = []
      let from: number | null = since
      for (let page = 0; page < MAX_PAGES && from !== null; page++) {
        const bytes = await this.#init.agents.request(
          peer.agent,
          USAGE_PROTOCOL,
          encodeWire({ since: from }),
          {
            timeoutMs: ASK_TIMEOUT_MS,
          },
        )
        const answer = decodeWire(UsageAnswerSchema, bytes)
        if (answer === null) return none('its answer was not usage rows')
        // A peer answers about the asker only; rows about anyone else are not counted.
        rows.push(...rowsAbout(answer.rows, this.#init.self))
        // Onward only: a next at or before where this page began would ask the same again.
        from = answer.next != null && answer.next > from ? answer.next : null
      }
      return { ...base, message: null, ...totalsOf(rows) }
    } catch (err) {
      return none((err as Error).message || String(err))
    }
  }
}
