/**
 * A get from holders (issue 57): a peer that needs an op it does not hold asks the holders of its
 * action hash (holder-order.ts) over `record/1.0.0`, one at a time, and takes the first answer that
 * passes the checks ingest makes of an op from a peer (fetched-op-check.ts). A holder that does not
 * have it, cannot be reached or answers garbage is passed over; one that served an altered or forged op
 * is warranted (the warrant book ingest keeps, through Replication.warrantAuthor) and passed over; an
 * op its author signed and the rules refuse warrants the author and ends the get, since every holder
 * serves the same action. An op whose rules need records not held here (an update's original) is
 * judged once those are got the same way from their own holders (bounded: MAX_DEPENDENCY_GETS). What
 * is got is handed back, not stored: where records live is not changed; it is kept in memory a while
 * (got-records.ts), as an action never changes, and served from there while its author is not barred.
 */
import type { Action } from '@holochain/client'
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../../config/network-schema.ts'
import { decodeHashB64, encodeHashB64 } from '../../../identity/hash.ts'
import { peerIdOfAgent } from '../../../identity/peer-agent.ts'
import { PeerUnreachableError, RemoteHandlerError, RequestRefusedError } from '../../../net/errors.ts'
import type { RequestResponse } from '../../../net/request-response.ts'
import type { StoredEntry } from '../../../storage/chain-store.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import type { RecordBeside } from '../validation/record-rules.ts'
import { type HolderTry, MalformedMessageError, RecordNotFoundError, RecordRefusedError } from './errors.ts'
import { checkFetchedOp } from './fetched-op-check.ts'
import { GotRecords } from './got-records.ts'
import { holdersToAsk } from './holder-order.ts'
import { getBasis } from './op-basis.ts'
import type { WireOp } from './op-wire.ts'
import { decodeRecordAnswer, encodeRecordGet, RECORD_GET_PROTOCOL } from './record-get-wire.ts'
import type { Replication } from './replication-port.ts'

export interface HolderGetInit {
  rpc: Pick<RequestResponse, 'request'>
  conductor: Pick<EmbeddedConductor, 'agentPubKey' | 'store' | 'cell'>
  replication: Pick<Replication, 'warrantAuthor' | 'isWarranted' | 'isRevoked'>
  /** The members this peer knows now (membership.ts `knownMembers`). */
  members: () => Iterable<string>
  /** The network file's `record.holders`; default DEFAULT_RECORD_HOLDERS. */
  holders?: number
  /** An open connection to the agent now (asked first); default: none is. */
  connected?: (agent: string) => boolean
  /** How long one holder has to answer; default request-response's. */
  timeoutMs?: number
}

/** An op got from a holder and checked. */
export interface GotRecord {
  op: WireOp
  action: Action
  entry: StoredEntry | null
  /** The holder that served it (HoloHashB64). */
  from: string
}

/** Most records one get fetches for what the record asked builds on (an update's original, and its own). */
export const MAX_DEPENDENCY_GETS = 32

/** What a get and the gets of what it builds on share: the records got so far, and the gets left. */
interface Dependencies {
  beside: RecordBeside[]
  gets: number
}

export class HolderGet {
  readonly #init: HolderGetInit
  /** Records got and checked, with what they were checked beside, by DNA and action hash. */
  readonly #got = new GotRecords<{ got: GotRecord; record: RecordBeside }>()

  constructor(init: HolderGetInit) {
    this.#init = init
  }

  /**
   * The op of `actionHash` (HoloHashB64) in `dna`, from the first holder whose answer passes. Rejects
   * with RecordNotFoundError when no holder served one that passes, RecordRefusedError when the op
   * itself cannot be taken here (its author signed what the rules refuse, or is barred here).
   */
  async get(dna: DnaName, actionHash: string, signal?: AbortSignal): Promise<GotRecord> {
    return this.#get(dna, actionHash, { beside: [], gets: MAX_DEPENDENCY_GETS }, signal)
  }

  async #get(dna: DnaName, actionHash: string, deps: Dependencies, signal?: AbortSignal): Promise<GotRecord> {
    const { conductor, replication } = this.#init
    const asked = decodeHashB64(actionHash, 'action')
    const barred = (agent: string) => replication.isWarranted(agent) || replication.isRevoked(agent)
    const key = `${dna} ${actionHash}`
    const kept = this.#got.get(key)
    if (kept !== undefined) {
      if (!barred(encodeHashB64(kept.got.action.author))) {
        deps.beside.push(kept.record)
        return kept.got
      }
      // Barred since it was got: asked again, the holders' answer is judged (and refused) afresh.
      this.#got.delete(key)
    }
    const context = {
      cell: conductor.cell(dna),
      store: conductor.store,
      barred: (author: Uint8Array) => barred(encodeHashB64(author)),
      beside: deps.beside,
    }
    const holders = holdersToAsk({
      basis: getBasis(asked),
      members: this.#init.members(),
      holders: this.#init.holders ?? DEFAULT_RECORD_HOLDERS,
      self: conductor.agentPubKey,
      barred,
      connected: this.#init.connected ?? (() => false),
    })
    const request = encodeRecordGet({ dnaHash: context.cell.dnaHash, actionHash: asked })
    const tries: HolderTry[] = []
    for (const holder of holders) {
      const op = await this.#ask(holder, request, signal).catch((err: unknown) => {
        if (signal?.aborted) throw signal.reason
        if (!isHolderFailure(err)) throw err
        tries.push({ holder, outcome: 'failed', detail: err.message })
        return undefined
      })
      if (op === undefined) continue
      if (op === null) {
        tries.push({ holder, outcome: 'lacks', detail: 'does not hold it' })
        continue
      }
      let verdict = checkFetchedOp(context, op, asked)
      // What it builds on lives elsewhere too: got from its own holders, checked, then judged again.
      while (verdict.kind === 'unchecked' && verdict.needs !== undefined) {
        await this.#getDependencies(dna, actionHash, verdict.needs, deps, signal)
        verdict = checkFetchedOp(context, op, asked)
      }
      if (verdict.kind === 'valid') {
        const record = { action: verdict.stored, entry: verdict.entry }
        const got = { op, action: verdict.action, entry: verdict.entry, from: holder }
        deps.beside.push(record)
        this.#got.set(key, { got, record }, op.action.length + op.signature.length + (op.entry?.length ?? 0))
        return got
      }
      if (verdict.kind === 'holder') {
        replication.warrantAuthor(
          dna,
          holder,
          actionHash,
          verdict.rule,
          `served as its holder: ${verdict.reason}`,
        )
        tries.push({ holder, outcome: 'warranted', detail: `${verdict.rule}: ${verdict.reason}` })
        continue
      }
      if (verdict.kind === 'author') {
        const author = encodeHashB64(verdict.author)
        replication.warrantAuthor(dna, author, actionHash, verdict.rule, verdict.reason)
        throw new RecordRefusedError(
          actionHash,
          `${verdict.rule}: ${verdict.reason} (its author is warranted)`,
        )
      }
      throw new RecordRefusedError(actionHash, verdict.reason)
    }
    throw new RecordNotFoundError(actionHash, tries)
  }

  /**
   * Gets each of `needs` not already got, from its holders, into `deps.beside`; the record that needs
   * them is refused when one cannot be got, or past the bound on gets.
   */
  async #getDependencies(
    dna: DnaName,
    actionHash: string,
    needs: readonly string[],
    deps: Dependencies,
    signal?: AbortSignal,
  ): Promise<void> {
    const got = (hash: string) => deps.beside.some((r) => encodeHashB64(r.action.hash) === hash)
    const missing = needs.filter((hash) => !got(hash))
    // Asked for again though got: the rules want more than records (cannot converge).
    if (missing.length === 0) throw new RecordRefusedError(actionHash, 'what it builds on cannot be checked')
    for (const hash of missing) {
      if (deps.gets-- <= 0)
        throw new RecordRefusedError(
          actionHash,
          `it builds on more than ${MAX_DEPENDENCY_GETS} records not held here`,
        )
      await this.#get(dna, hash, deps, signal).catch((err: unknown) => {
        if (!(err instanceof RecordNotFoundError || err instanceof RecordRefusedError)) throw err
        throw new RecordRefusedError(actionHash, `it builds on ${hash}, not got: ${err.message}`)
      })
    }
  }

  async #ask(holder: string, request: Uint8Array, signal?: AbortSignal): Promise<WireOp | null> {
    const options = { signal, timeoutMs: this.#init.timeoutMs }
    const answer = await this.#init.rpc.request(peerIdOfAgent(holder), RECORD_GET_PROTOCOL, request, options)
    return decodeRecordAnswer(answer)
  }
}

/** What one holder failing to answer throws: the next holder is asked. */
export function isHolderFailure(err: unknown): err is Error {
  return (
    err instanceof PeerUnreachableError ||
    err instanceof RequestRefusedError ||
    err instanceof RemoteHandlerError ||
    err instanceof MalformedMessageError
  )
}
