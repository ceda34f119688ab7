/**
 * What a zome call reads beyond this peer's store where records live with their neighbourhood (issue
 * 57). The HDK is synchronous, so a read of a neighbourhood record this peer does not hold records a
 * miss and returns nothing; the cell then gets every miss from its holders through this port and runs
 * the call again with what it got beside the store (cell.ts, read-rounds.ts). The network layer
 * attaches the port (replication/zome-reads.ts); until it does, and while records are not sharded,
 * every read is answered by the store alone, as before.
 */
import type { DnaName } from '../../../zomes-bindings/index.ts'
import type { StoredLink } from '../../storage/chain-store.ts'
import type { RecordBeside } from './validation/record-rules.ts'

/** A read the store could not answer for certain. */
export type ReadMiss =
  /** A record by its action hash, with the updates and deletes that target it. */
  | { kind: 'record'; hash: Uint8Array }
  /** The links on a base of one type whose tag starts with `tagPrefix` (deleted ones too when asked). */
  | { kind: 'links'; base: Uint8Array; linkType: number; tagPrefix: Uint8Array; deleted: boolean }

/** A link set got from the base's holders: the links and the actions that wrote and deleted them. */
export interface GotLinks {
  miss: Extract<ReadMiss, { kind: 'links' }>
  links: StoredLink[]
}

/** What a round of gets brought, each record and action checked as ingest checks an op. */
export interface GotReads {
  /** Records, what targets them, and the actions of the link sets. */
  records: RecordBeside[]
  linkSets: GotLinks[]
}

export const NOTHING_GOT: GotReads = { records: [], linkSets: [] }

export interface RemoteReads {
  /**
   * Whether a read of what lives at `basis` (a record's action hash, a link's base) must ask its
   * holders when the store lacks it: records are sharded, `typeName` (the entry or link type; null
   * when unknown) lives in the neighbourhood, and this peer is not among the holders of `basis`.
   */
  elsewhere(dna: DnaName, basis: Uint8Array, typeName: string | null): boolean
  /**
   * Gets what `misses` name from their holders for a call of the zome function `fn`; what no holder
   * served is left out. Rejects with `signal`'s reason once it aborts (the call's deadline, read-rounds.ts).
   */
  fetch(dna: DnaName, misses: readonly ReadMiss[], signal: AbortSignal, fn: string): Promise<GotReads>
}

/** Nothing is elsewhere: the store answers every read (full replication, or no network yet). */
export const STORE_ONLY: RemoteReads = {
  elsewhere: () => false,
  fetch: async () => NOTHING_GOT,
}

/** The reads the cells ask, answered by whatever the network layer attaches. */
export class RemoteReadsRelay implements RemoteReads {
  #source: RemoteReads = STORE_ONLY

  attach(source: RemoteReads): void {
    this.#source = source
  }

  elsewhere(dna: DnaName, basis: Uint8Array, typeName: string | null): boolean {
    return this.#source.elsewhere(dna, basis, typeName)
  }

  fetch(dna: DnaName, misses: readonly ReadMiss[], signal: AbortSignal, fn: string): Promise<GotReads> {
    return this.#source.fetch(dna, misses, signal, fn)
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Two rounds' worth of gets as one. */
export function mergeGot(a: GotReads, b: GotReads): GotReads {
  return { records: [...a.records, ...b.records], linkSets: [...a.linkSets, ...b.linkSets] }
}

/** One key per distinct miss: a call that misses the same read twice asks once. */
export function missKey(miss: ReadMiss): string {
  if (miss.kind === 'record') return `r:${hex(miss.hash)}`
  return `l:${hex(miss.base)}:${miss.linkType}:${hex(miss.tagPrefix)}:${miss.deleted ? 1 : 0}`
}
