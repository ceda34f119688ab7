/**
 * The hello exchange run on every new connection: each side sends its network id and checks the
 * other's. Protocol ids already differ between networks; this catches a peer that speaks ours
 * anyway, and tells both sides when the peer may be trusted with ops and requests.
 *
 * Two versions: hello/1 (0.1.0: one version byte and the network id, nothing more, and 0.1.0 reads
 * no more than that) and hello/2, which adds each side's release statement. A dialler offers both,
 * hello/2 first; a peer that answers only hello/1 states nothing (a release before 0.2.0).
 */
import type { AbortOptions, Stream } from '@libp2p/interface'
import { parseWireJson, TooDeepError } from '../interface/nesting-depth.ts'
import { RELEASE, type ReleaseStatement, ReleaseStatementSchema } from '../interface/release.ts'
import { framedStream } from './framed-stream.ts'

export const HELLO_PROTOCOL_SUFFIX = 'hello/1.0.0'
export const HELLO2_PROTOCOL_SUFFIX = 'hello/2.0.0'
const HELLO_VERSION = 1
const HELLO2_VERSION = 2
/** A statement's JSON is a few hundred bytes; this bounds what a peer may make us read. */
const MAX_STATEMENT_BYTES = 4096

/** The remote's hello carried another network id (or was malformed). */
export class NetworkMismatchError extends Error {
  static override readonly name: string = 'NetworkMismatchError'
  constructor(message: string) {
    super(message)
    this.name = 'NetworkMismatchError'
  }
}

/** The remote's hello/2 carried our network id but a release statement we cannot read. */
export class MalformedHelloError extends NetworkMismatchError {
  static override readonly name = 'MalformedHelloError'
  constructor(message: string) {
    super(message)
    this.name = 'MalformedHelloError'
  }
}

/** Dialler side: speak first, then check the answer. */
export function sayHello(stream: Stream, networkId: Uint8Array, options: AbortOptions): Promise<void> {
  return abortOnFailure(stream, async () => {
    const lp = framedStream(stream, { maxDataLength: networkId.length + 1 })
    await lp.write(helloFrame(networkId), options)
    checkHello((await lp.read(options)).subarray(), networkId)
    await stream.close(options)
  })
}

/** Listener side: check, then answer. A mismatched peer gets a reset, not our id. */
export function answerHello(stream: Stream, networkId: Uint8Array, options: AbortOptions): Promise<void> {
  return abortOnFailure(stream, async () => {
    const lp = framedStream(stream, { maxDataLength: networkId.length + 1 })
    checkHello((await lp.read(options)).subarray(), networkId)
    await lp.write(helloFrame(networkId), options)
    await stream.close(options)
  })
}

/** Dialler side of hello/2: speak first (id and statement), then check the answer; the remote's statement. */
export function sayHello2(
  stream: Stream,
  networkId: Uint8Array,
  own: ReleaseStatement,
  options: AbortOptions,
): Promise<ReleaseStatement> {
  return abortOnFailure(stream, async () => {
    const lp = framedStream(stream, { maxDataLength: networkId.length + 1 + MAX_STATEMENT_BYTES })
    await lp.write(hello2Frame(networkId, own), options)
    const theirs = checkHello2((await lp.read(options)).subarray(), networkId)
    await stream.close(options)
    return theirs
  })
}

/** Listener side of hello/2: check, then answer with ours; the remote's statement. */
export function answerHello2(
  stream: Stream,
  networkId: Uint8Array,
  own: ReleaseStatement,
  options: AbortOptions,
): Promise<ReleaseStatement> {
  return abortOnFailure(stream, async () => {
    const lp = framedStream(stream, { maxDataLength: networkId.length + 1 + MAX_STATEMENT_BYTES })
    const theirs = checkHello2((await lp.read(options)).subarray(), networkId)
    await lp.write(hello2Frame(networkId, own), options)
    await stream.close(options)
    return theirs
  })
}

async function abortOnFailure<T>(stream: Stream, exchange: () => Promise<T>): Promise<T> {
  try {
    return await exchange()
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

function hello2Frame(networkId: Uint8Array, own: ReleaseStatement): Uint8Array {
  const statement = Buffer.from(JSON.stringify(own))
  if (statement.length > MAX_STATEMENT_BYTES) throw new Error('this release statement is too long to say')
  return Buffer.concat([Buffer.from([HELLO2_VERSION]), networkId, statement])
}

/** A frame of another hello version than the protocol negotiated: named as newer when it is. */
function checkVersion(frame: Uint8Array, version: number): void {
  const theirs = frame[0] ?? 0
  if (theirs === version) return
  if (theirs > version) {
    throw new NetworkMismatchError(
      `its hello is version ${theirs}, from a newer Ripple; this peer ${RELEASE} speaks hello ${version}: upgrade this peer`,
    )
  }
  throw new NetworkMismatchError(`unknown hello version ${theirs}`)
}

function checkHello(frame: Uint8Array, networkId: Uint8Array): void {
  checkVersion(frame, HELLO_VERSION)
  checkNetwork(frame.subarray(1), networkId)
}

function checkHello2(frame: Uint8Array, networkId: Uint8Array): ReleaseStatement {
  checkVersion(frame, HELLO2_VERSION)
  checkNetwork(frame.subarray(1, networkId.length + 1), networkId)
  let json: unknown
  try {
    json = parseWireJson(
      Buffer.from(frame.subarray(networkId.length + 1)).toString('utf8'),
      'its release statement',
    )
  } catch (err) {
    if (err instanceof TooDeepError) throw new MalformedHelloError(err.message)
    throw new MalformedHelloError('its release statement is not JSON')
  }
  const parsed = ReleaseStatementSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new MalformedHelloError(
      `its release statement is malformed: ${issue?.path.join('.')}: ${issue?.message}`,
    )
  }
  return parsed.data
}

function checkNetwork(remoteId: Uint8Array, networkId: Uint8Array): void {
  if (!Buffer.from(remoteId).equals(Buffer.from(networkId))) {
    throw new NetworkMismatchError('peer is on another network')
  }
}
