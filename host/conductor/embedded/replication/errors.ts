/** Errors of replication. */

/** A message from a peer that does not decode as the replication protocol says it should. */
export class MalformedMessageError extends Error {
  static override readonly name = 'MalformedMessageError'
  constructor(what: string, detail: string) {
    super(`malformed ${what}: ${detail}`)
    this.name = 'MalformedMessageError'
  }
}
