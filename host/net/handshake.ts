/**
 * The hello exchange run on every new connection: each side sends its network id and checks the
 * other's. Protocol ids already differ between networks; this catches a peer that speaks ours
 * anyway, and tells both sides when the peer may be trusted with ops and requests.
 */
import type { AbortOptions, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'

export const HELLO_PROTOCOL_SUFFIX = 'hello/1.0.0'
const HELLO_VERSION = 1

/** The remote's hello carried another network id (or was malformed). */
export class NetworkMismatchError extends Error {
  static override readonly name = 'NetworkMismatchError'
  constructor(message: string) {
    super(message)
    this.name = 'NetworkMismatchError'
  }
}

/** Dialler side: speak first, then check the answer. */
export function sayHello(stream: Stream, networkId: Uint8Array, options: AbortOptions): Promise<void> {
  return abortOnFailure(stream, async () => {
    const lp = lpStream(stream, { maxDataLength: networkId.length + 1 })
    await lp.write(helloFrame(networkId), options)
    checkHello((await lp.read(options)).subarray(), networkId)
    await stream.close(options)
  })
}

/** Listener side: check, then answer. A mismatched peer gets a reset, not our id. */
export function answerHello(stream: Stream, networkId: Uint8Array, options: AbortOptions): Promise<void> {
  return abortOnFailure(stream, async () => {
    const lp = lpStream(stream, { maxDataLength: networkId.length + 1 })
    checkHello((await lp.read(options)).subarray(), networkId)
    await lp.write(helloFrame(networkId), options)
    await stream.close(options)
  })
}

async function abortOnFailure(stream: Stream, exchange: () => Promise<void>): Promise<void> {
  try {
    await exchange()
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

function helloFrame(networkId: Uint8Array): Uint8Array {
  const frame = new Uint8Array(networkId.length + 1)
  frame[0] = HELLO_VERSION
  frame.set(networkId, 1)
  return frame
}

function checkHello(frame: Uint8Array, networkId: Uint8Array): void {
  if (frame[0] !== HELLO_VERSION) throw new NetworkMismatchError(`unknown hello version ${frame[0]}`)
  const remoteId = frame.subarray(1)
  if (!Buffer.from(remoteId).equals(Buffer.from(networkId))) {
    throw new NetworkMismatchError('peer is on another network')
  }
}
