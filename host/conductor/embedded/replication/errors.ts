/** Errors of replication. */

/** A message from a peer that does not decode as the replication protocol says it should. */
export class MalformedMessageError extends Error {
  static override readonly name = 'MalformedMessageError'
  constructor(what: string, detail: string) {
    super(`malformed ${what}: ${detail}`)
    this.name = 'MalformedMessageError'
  }
}

/** How one holder asked by a get answered: what a get that found nothing reports. */
export interface HolderTry {
  holder: string
  outcome: 'lacks' | 'failed' | 'warranted'
  detail: string
}

/** A get from holders (holder-get.ts) that no holder answered with an op that passes. */
export class RecordNotFoundError extends Error {
  static override readonly name = 'RecordNotFoundError'
  constructor(
    readonly actionHash: string,
    readonly tries: readonly HolderTry[],
  ) {
    super(
      tries.length === 0
        ? `no holder of ${actionHash} to ask: no other member is known here`
        : `no holder has ${actionHash}: ${tries.map((t) => `${t.holder.slice(0, 12)}… ${t.outcome} (${t.detail})`).join('; ')}`,
    )
    this.name = 'RecordNotFoundError'
  }
}

/** A get from holders whose op cannot be taken here, whoever serves it. */
export class RecordRefusedError extends Error {
  static override readonly name = 'RecordRefusedError'
  constructor(
    readonly actionHash: string,
    reason: string,
  ) {
    super(`${actionHash} is refused here: ${reason}`)
    this.name = 'RecordRefusedError'
  }
}
