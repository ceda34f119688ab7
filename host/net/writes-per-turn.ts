/**
 * One socket write per turn of the event loop on a TCP connection, where libp2p makes many: each muxer
 * frame (a stream's data, its window update after every frame it reads, its open and close) is a Noise
 * message, and @libp2p/tcp writes a message's length and its ciphertext apart, so a one-token direct
 * request cost each side ~22 write syscalls on its connection. The socket is corked at its first write
 * of a turn and uncorked once the turn's callbacks have run (setImmediate: after the poll phase, so
 * every stream's frames written while the turn read the socket go out in one writev, not one writev
 * for each chain of promises as on the next tick: 2.8 writev a request on a runner against 6.6, at
 * 200 one-token requests a second). Back-pressure is Node's as before: a write past the socket's
 * buffer still answers false, and `drain` follows the flush.
 */
import { Socket } from 'node:net'
import type { ConnectionEncrypter } from '@libp2p/interface'

/** Corks `connection`'s socket per turn when it is a TCP connection (one of @libp2p/tcp's); else leaves it. */
export function writesPerTurn<T extends object>(connection: T): T {
  const socket = (connection as { socket?: unknown }).socket
  if (!(socket instanceof Socket) || corked.has(socket)) return connection
  corked.add(socket)
  const write = socket.write
  let pending = false
  const uncork = () => {
    pending = false
    socket.uncork()
  }
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!pending) {
      pending = true
      this.cork()
      setImmediate(uncork)
    }
    return write.apply(this, args)
  } as Socket['write']
  return connection
}

const corked = new WeakSet<Socket>()

/** The encrypter with its connections' writes batched per turn (without a pre-shared key, its input is the TCP connection). */
export function batchingWrites<C>(
  encrypter: (components: C) => ConnectionEncrypter,
): (components: C) => ConnectionEncrypter {
  return (components) => {
    const inner = encrypter(components)
    return {
      protocol: inner.protocol,
      secureInbound: (connection, options) => inner.secureInbound(writesPerTurn(connection), options),
      secureOutbound: (connection, options) => inner.secureOutbound(writesPerTurn(connection), options),
    }
  }
}
