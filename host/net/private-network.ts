/**
 * Optional pre-shared key: every connection is encrypted with it before noise, so a peer without
 * the key cannot even complete a handshake.
 *
 * The same wire format as @libp2p/pnet (each side sends a random 24-byte nonce, then each direction
 * is XSalsa20 under the key and the sender's nonce), so peers running it still connect, but our own
 * implementation: pnet's cipher grew a WebAssembly memory shared by all connections until it threw
 * in a socket's data handler, which ended the daemon (xsalsa20-stream.ts). Here a failure in a
 * connection's data path closes that connection, with the reason in the log.
 */
import type {
  AbortOptions,
  ConnectionProtector,
  MessageStream,
  MultiaddrConnection,
  StreamMessageEvent,
} from '@libp2p/interface'
import { InvalidParametersError } from '@libp2p/interface'
import { AbstractMultiaddrConnection, byteStream, type SendResult } from '@libp2p/utils'
import type { Logger } from '../log/logger.ts'
import { writesPerTurn } from './writes-per-turn.ts'
import { type Keystream, XSalsa20Stream } from './xsalsa20-stream.ts'

const NONCE_BYTES = 24
/** @libp2p/pnet's limit on the nonce exchange when libp2p passes no signal. */
const DEFAULT_TIMEOUT_MS = 1_000
/** What one `sendData` encrypts at most: bounded work per call, however much the muxer queued. */
const MAX_SEND_BYTES = 256 * 1024

/** The v1 swarm key file format (`swarm.key`), what @libp2p/pnet and go-libp2p read the key from. */
export function swarmKey(pskHex: string): Uint8Array {
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${pskHex}`)
}

export interface PrivateNetworkOptions {
  /** Where a connection closed for a failure in its data path is logged (with the reason). */
  logger?: Logger
  /** The cipher of each direction; XSalsa20 unless a test injects another. */
  keystream?: (nonce: Uint8Array, key: Uint8Array) => Keystream
  /** How long the nonce exchange may take when libp2p passes no signal; default 1 s. */
  timeoutMs?: number
}

/** libp2p's `connectionProtector` for a network whose key is `pskHex` (64 hex characters). */
export function privateNetwork(
  pskHex: string,
  options: PrivateNetworkOptions = {},
): () => ConnectionProtector {
  if (!/^[0-9a-fA-F]{64}$/.test(pskHex)) throw new InvalidParametersError('psk must be 64 hex characters')
  const psk = Uint8Array.from(Buffer.from(pskHex, 'hex'))
  return () => new PreSharedKeyProtector(psk, options)
}

class PreSharedKeyProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = '@ripple/pnet'

  readonly #psk: Uint8Array
  readonly #options: PrivateNetworkOptions

  constructor(psk: Uint8Array, options: PrivateNetworkOptions) {
    this.#psk = psk
    this.#options = options
  }

  async protect(connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const { remoteAddr } = connection as Partial<MultiaddrConnection>
    if (remoteAddr === undefined) throw new InvalidParametersError('the connection to protect has no address')
    const log = connection.log.newScope('pnet')
    const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
    const signal = options?.signal ?? AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    const bytes = byteStream(writesPerTurn(connection))
    const [remote] = await Promise.all([
      bytes.read({ bytes: NONCE_BYTES, signal }),
      bytes.write(localNonce, { signal }),
    ])
    log('exchanged nonces')
    const keystream = this.#options.keystream ?? ((nonce, key) => new XSalsa20Stream(nonce, key))
    return new PrivateConnection({
      maConn: bytes.unwrap(),
      remoteAddr,
      log,
      inbound: keystream(remote.subarray(), this.#psk),
      outbound: keystream(localNonce, this.#psk),
      logger: this.#options.logger,
    })
  }
}

interface PrivateConnectionInit {
  maConn: MessageStream
  remoteAddr: MultiaddrConnection['remoteAddr']
  log: MessageStream['log']
  inbound: Keystream
  outbound: Keystream
  logger: Logger | undefined
}

/** The protected connection: the key's cipher both ways over the raw one. */
class PrivateConnection extends AbstractMultiaddrConnection {
  readonly #maConn: MessageStream
  readonly #outbound: Keystream
  readonly #logger: Logger | undefined
  #failed = false

  constructor(init: PrivateConnectionInit) {
    super({
      log: init.log,
      remoteAddr: init.remoteAddr,
      direction: init.maConn.direction,
      maxMessageSize: MAX_SEND_BYTES,
    })
    this.#maConn = init.maConn
    this.#outbound = init.outbound
    this.#logger = init.logger
    const inbound = init.inbound
    // A listener's exception is rethrown by the event dispatch as an uncaught exception, which ends
    // the process: a failure here closes this connection instead (noise and yamux, above, catch
    // theirs the same way).
    this.#maConn.addEventListener('message', (evt: StreamMessageEvent) => {
      if (this.#failed) return
      try {
        const data = evt.data
        this.onData(inbound.update(data instanceof Uint8Array ? [data] : data, data.byteLength))
      } catch (err) {
        this.#fail(err, 'decrypting what the peer sent')
      }
    })
    // Resume sending when the raw connection can take more.
    this.#maConn.addEventListener('drain', () => this.onMuxerDrain())
    this.#maConn.addEventListener('close', (evt) => {
      if (evt.error == null) this.onTransportClosed()
      else if (evt.local) this.abort(evt.error)
      else this.onRemoteReset()
    })
  }

  sendData(data: Iterable<Uint8Array> & { byteLength: number }): SendResult {
    if (this.#failed) return { sentBytes: data.byteLength, canSendMore: false }
    let sealed: Uint8Array
    try {
      sealed = this.#outbound.update(data, data.byteLength)
    } catch (err) {
      // Thrown from here, it would reach whoever wrote to a stream of this connection (a socket's
      // data handler, say); closed on the next tick, it ends only this connection.
      this.#fail(err, 'encrypting what this peer sends', true)
      return { sentBytes: data.byteLength, canSendMore: false }
    }
    return { sentBytes: data.byteLength, canSendMore: this.#maConn.send(sealed) }
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    await this.#maConn.close(options)
  }

  sendReset(err: Error): void {
    this.#maConn.abort(err)
  }

  sendPause(): void {
    this.#maConn.pause()
  }

  sendResume(): void {
    this.#maConn.resume()
  }

  #fail(err: unknown, doing: string, later = false): void {
    this.#failed = true
    const error = err instanceof Error ? err : new Error(String(err))
    const reason = `private network connection closed: ${doing} failed: ${error.message}`
    this.log.error('%s', reason)
    this.#logger?.warn({ remote: this.remoteAddr.toString(), err: error.message }, reason)
    const close = () => {
      this.abort(error)
      // abort() resets the raw connection too, unless this one had ended already.
      this.#maConn.abort(error)
    }
    if (later) queueMicrotask(close)
    else close()
  }
}
