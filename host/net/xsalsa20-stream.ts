/**
 * XSalsa20 as one continuous keystream over many calls, what the private network's cipher needs:
 * each direction of a connection is one stream, cut wherever the socket cut it. Built on
 * @noble/ciphers (plain JavaScript): the `xsalsa20` package that @libp2p/pnet uses keeps its scratch
 * space in one WebAssembly memory shared by every connection, and grows it by a whole chunk's size
 * again whenever another connection grew it first (its view of the memory is stale then), so a few
 * large writes took it to its 64 MiB cap and `update` threw RangeError inside a socket's data handler.
 */
import { xsalsa20 } from '@noble/ciphers/salsa.js'

const BLOCK = 64
/** noble's block counter is 32 bits: a direction of one connection carries at most this. */
export const KEYSTREAM_LIMIT_BYTES = (2 ** 32 - 2) * BLOCK

/** Thrown when a direction's keystream is used up (256 GiB): the connection has to be made again. */
export class KeystreamExhaustedError extends Error {
  static override readonly name = 'KeystreamExhaustedError'
  constructor() {
    super('the private network cipher carried 256 GiB one way on this connection: it must be renewed')
    this.name = 'KeystreamExhaustedError'
  }
}

/** Encrypts or decrypts (the same XOR) a stream's chunks in order. */
export interface Keystream {
  /** The chunks' bytes XORed with the next bytes of the keystream, as one new array. */
  update(chunks: Iterable<Uint8Array>, byteLength: number): Uint8Array
}

export class XSalsa20Stream implements Keystream {
  readonly #key: Uint8Array
  readonly #nonce: Uint8Array
  /** Bytes of keystream used so far. */
  #position = 0

  constructor(nonce: Uint8Array, key: Uint8Array) {
    if (nonce.length !== 24) throw new RangeError('an XSalsa20 nonce is 24 bytes')
    if (key.length !== 32) throw new RangeError('an XSalsa20 key is 32 bytes')
    this.#nonce = Uint8Array.from(nonce)
    this.#key = Uint8Array.from(key)
  }

  update(chunks: Iterable<Uint8Array>, byteLength: number): Uint8Array {
    if (byteLength === 0) return new Uint8Array(0)
    if (this.#position + byteLength > KEYSTREAM_LIMIT_BYTES) throw new KeystreamExhaustedError()
    // The chunks are copied in after `skip` bytes, so the buffer starts on a keystream block (and
    // a 4-byte boundary: noble's fast path) and one call XORs it in place; the skipped head is
    // keystream already used, zeroed before the bytes are handed on.
    const skip = this.#position % BLOCK
    const buffer = new Uint8Array(skip + byteLength)
    let at = skip
    for (const chunk of chunks) {
      buffer.set(chunk, at)
      at += chunk.length
    }
    if (at !== buffer.length) throw new RangeError(`chunks of ${at - skip} bytes, ${byteLength} announced`)
    xsalsa20(this.#key, this.#nonce, buffer, buffer, (this.#position - skip) / BLOCK)
    buffer.fill(0, 0, skip)
    this.#position += byteLength
    return buffer.subarray(skip)
  }
}
