/**
 * A STUN binding responder beside the relay (RFC 8489, the binding method only): a peer behind NAT
 * asks it, over UDP, which public address and port its NAT gave it, and offers that mapping to the
 * other peer as an ICE candidate when they try a direct WebRTC connection. Behind a NAT that keeps
 * one mapping per socket, the mapping the relay saw is the one the other peer can reach.
 */
import { createSocket, type RemoteInfo } from 'node:dgram'

export { DEFAULT_STUN_PORT } from '../net/stun-port.ts'

const BINDING_REQUEST = 0x0001
const BINDING_SUCCESS = 0x0101
const MAGIC_COOKIE = 0x2112a442
const XOR_MAPPED_ADDRESS = 0x0020
const HEADER_BYTES = 20

export interface StunResponder {
  close(): void
}

/** The success response to a binding request, or null for anything else (which is ignored). */
export function bindingResponse(
  request: Uint8Array,
  from: Pick<RemoteInfo, 'address' | 'port' | 'family'>,
): Uint8Array | null {
  if (request.length < HEADER_BYTES || from.family !== 'IPv4') return null
  const view = new DataView(request.buffer, request.byteOffset, request.byteLength)
  if (view.getUint16(0) !== BINDING_REQUEST || view.getUint32(4) !== MAGIC_COOKIE) return null
  const response = new Uint8Array(HEADER_BYTES + 12)
  const out = new DataView(response.buffer)
  out.setUint16(0, BINDING_SUCCESS)
  out.setUint16(2, 12)
  out.setUint32(4, MAGIC_COOKIE)
  response.set(request.subarray(8, HEADER_BYTES), 8) // transaction id
  out.setUint16(20, XOR_MAPPED_ADDRESS)
  out.setUint16(22, 8)
  out.setUint8(25, 0x01) // IPv4
  out.setUint16(26, from.port ^ (MAGIC_COOKIE >>> 16))
  const ip = from.address.split('.').reduce((n, octet) => (n << 8) | Number(octet), 0) >>> 0
  out.setUint32(28, (ip ^ MAGIC_COOKIE) >>> 0)
  return response
}

export function startStunResponder(host: string, port: number): Promise<StunResponder> {
  const socket = createSocket('udp4')
  socket.on('message', (message, rinfo) => {
    const response = bindingResponse(message, rinfo)
    if (response !== null) socket.send(response, rinfo.port, rinfo.address)
  })
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(port, host, () => {
      socket.off('error', reject)
      // A bad datagram or an unreachable sender must not take the relay down.
      socket.on('error', () => {})
      resolve({ close: () => socket.close() })
    })
  })
}
