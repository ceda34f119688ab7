/**
 * Lists a zome read needs from the holders of their basis (issue 57): the links on a base (at the
 * base's holders) and what targets a record (its updates and deletes, at the record's holders), asked
 * over `record/1.0.0` one holder at a time, connected ones first (holder-order.ts). Each op answered is
 * checked as a fetched op is (fetched-op-check.ts: hash, signature, shape, entry, rules), and must be
 * what was asked: a CreateLink on that base, of that type and tag prefix; a DeleteLink of one of those;
 * an Update or Delete of that record. A holder whose answer fails that served what was not asked or not
 * signed: it is warranted, its whole answer refused, and the next holder asked. An op its author signed
 * and the rules refuse warrants the author and is left out; so is a link by an agent this peer does not
 * count a member, without blame (one that joined unseen is a member to the holder, as VIEW_MARGIN allows
 * for placement). A links list answered with none is asked of one more holder, so one holder withholding
 * the whole set is not believed alone. What is got is handed back, not stored.
 */
import type { Action } from '@holochain/client'
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../../config/network-schema.ts'
import { encodeHashB64, hashContent, hashesEqual } from '../../../identity/hash.ts'
import { peerIdOfAgent } from '../../../identity/peer-agent.ts'
import type { StoredLink } from '../../../storage/chain-store.ts'
import { toCommitItem } from '../action.ts'
import { ActionTypes } from '../hc-enums.ts'
import type { RecordBeside } from '../validation/record-rules.ts'
import { checkFetchedOp, type FetchedOpContext } from './fetched-op-check.ts'
import { type HolderGetInit, isHolderFailure } from './holder-get.ts'
import { holdersToAsk } from './holder-order.ts'
import { getBasis } from './op-basis.ts'
import type { WireOp } from './op-wire.ts'
import {
  decodeRecordListAnswer,
  encodeRecordList,
  RECORD_GET_PROTOCOL,
  type RecordList,
} from './record-get-wire.ts'

/** A list got from one holder, every op checked. */
export interface GotList {
  /** The actions (and entries) answered, what they build on beside them. */
  records: RecordBeside[]
  /** For a links list: the links, each deleted by the DeleteLink answered with it, if any. */
  links: StoredLink[]
  /** The holder that answered (HoloHashB64), or null when none did. */
  from: string | null
}

/** A lie in a holder's answer: what it served that was not asked or not signed. */
interface Lie {
  hash: string
  rule: string
  reason: string
}

export class HolderLists {
  readonly #init: HolderGetInit

  constructor(init: HolderGetInit) {
    this.#init = init
  }

  /**
   * `list` of `dna` from the first holder whose answer passes; `beside`: records got already that
   * what is listed builds on (the record whose updates are asked). Nothing got when no holder answered;
   * rejects with `signal`'s reason once it aborts.
   */
  async list(
    dna: DnaName,
    list: RecordList,
    beside: readonly RecordBeside[] = [],
    signal?: AbortSignal,
  ): Promise<GotList> {
    const { conductor, replication } = this.#init
    const cell = conductor.cell(dna)
    const barred = (agent: string) => replication.isWarranted(agent) || replication.isRevoked(agent)
    const members = [...this.#init.members()]
    const holders = holdersToAsk({
      basis: list.kind === 'links' ? list.base : getBasis(list.hash),
      members,
      holders: this.#init.holders ?? DEFAULT_RECORD_HOLDERS,
      self: conductor.agentPubKey,
      barred,
      connected: this.#init.connected ?? (() => false),
    })
    const request = encodeRecordList(cell.dnaHash, list)
    const memberSet = new Set(members)
    /** A links list one holder answered with none: held back while one more holder is asked. */
    let none: GotList | null = null
    for (const holder of holders) {
      const answer = await this.#ask(holder, request, signal).catch((err: unknown) => {
        if (signal?.aborted) throw signal.reason
        if (!isHolderFailure(err)) throw err
        return null
      })
      if (answer === null) continue
      const context = {
        cell,
        store: conductor.store,
        barred: (author: Uint8Array) => barred(encodeHashB64(author)),
        beside: [...beside],
      }
      const got: GotList = { records: [], links: [], from: holder }
      const lie = this.#take(dna, list, answer.ops, context, got, memberSet)
      if (lie !== null) {
        replication.warrantAuthor(dna, holder, lie.hash, lie.rule, `served as its holder: ${lie.reason}`)
        continue
      }
      // Targets are asked of every record got, and mostly none: one holder's word is taken there.
      if (got.records.length > 0 || list.kind === 'targets') return got
      if (none !== null) return none
      none = got
    }
    return none ?? { records: [], links: [], from: null }
  }

  /**
   * Checks each op of one holder's answer into `got`; the first lie found, if any. An op whose rules
   * need another of the answer (a DeleteLink its CreateLink) is judged again once the rest are in.
   */
  #take(
    dna: DnaName,
    list: RecordList,
    ops: readonly WireOp[],
    context: FetchedOpContext & { beside: RecordBeside[] },
    got: GotList,
    members: ReadonlySet<string>,
  ): Lie | null {
    const waiting: WireOp[] = []
    /** CreateLinks left out for their author not being counted a member here, and so their deletes. */
    const strangers: Uint8Array[] = []
    for (const pass of [ops, waiting]) {
      for (const op of pass) {
        const hash = hashContent(op.action, 'action')
        const verdict = checkFetchedOp(context, op, hash)
        if (verdict.kind === 'holder')
          return { hash: encodeHashB64(hash), rule: verdict.rule, reason: verdict.reason }
        if (verdict.kind === 'author') {
          const author = encodeHashB64(verdict.author)
          this.#init.replication.warrantAuthor(dna, author, encodeHashB64(hash), verdict.rule, verdict.reason)
          continue
        }
        if (verdict.kind === 'unchecked') {
          if (verdict.needs !== undefined && pass === ops) waiting.push(op)
          continue
        }
        if (list.kind === 'links' && byStranger(verdict.action, members, strangers)) {
          strangers.push(hash)
          continue
        }
        const notAsked = askedFor(list, verdict.action, got)
        if (notAsked !== null) return { hash: encodeHashB64(hash), rule: 'sys.list', reason: notAsked }
        const record = { action: verdict.stored, entry: verdict.entry }
        context.beside.push(record)
        got.records.push(record)
        const item = toCommitItem(verdict.action, verdict.stored, verdict.entry)
        if (item.link) got.links.push({ ...item.link, deletedBy: null })
        const deleted =
          item.deletesLink && got.links.find((l) => hashesEqual(l.createHash, item.deletesLink!))
        if (deleted && deleted.deletedBy === null) deleted.deletedBy = verdict.stored.hash
      }
    }
    return null
  }

  async #ask(holder: string, request: Uint8Array, signal?: AbortSignal) {
    const options = { signal, timeoutMs: this.#init.timeoutMs }
    const answer = await this.#init.rpc.request(peerIdOfAgent(holder), RECORD_GET_PROTOCOL, request, options)
    return decodeRecordListAnswer(answer)
  }
}

/** A CreateLink by an agent not counted a member here, or the DeleteLink of one. */
function byStranger(action: Action, members: ReadonlySet<string>, strangers: readonly Uint8Array[]): boolean {
  if (action.type === ActionTypes.CreateLink) return !members.has(encodeHashB64(action.author))
  if (action.type !== ActionTypes.DeleteLink) return false
  return strangers.some((hash) => hashesEqual(hash, action.link_add_address))
}

/** Why `action` is not what `list` asked for, or null when it is. */
function askedFor(list: RecordList, action: Action, got: GotList): string | null {
  if (list.kind === 'targets') {
    const target =
      action.type === ActionTypes.Update
        ? action.original_action_address
        : action.type === ActionTypes.Delete
          ? action.deletes_address
          : null
    return target !== null && hashesEqual(target, list.hash)
      ? null
      : 'not an update or delete of the record asked'
  }
  if (action.type === ActionTypes.DeleteLink)
    return got.links.some((l) => hashesEqual(l.createHash, action.link_add_address))
      ? null
      : 'a link delete of no link it listed'
  if (action.type !== ActionTypes.CreateLink) return 'not a link'
  const prefix = list.tagPrefix
  const matches =
    hashesEqual(action.base_address, list.base) &&
    action.link_type === list.linkType &&
    action.tag.length >= prefix.length &&
    hashesEqual(action.tag.subarray(0, prefix.length), prefix)
  return matches ? null : 'a link not on the base, type or tag asked'
}
