/**
 * Reaching a NAT-lab peer's API (on its namespace's loopback) from the bench: a forwarder inside the
 * namespace joins a Unix socket to the peer's port, and a fetch goes through that socket.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent, fetch as undiciFetch } from 'undici'
import type { LabMesh, LabPeer } from '../tests/net/lab-mesh.ts'

export interface LabApi {
  /** The peer's API origin as it sees it (the Host its requests carry). */
  url: string
  token: string
  fetch: typeof fetch
}

export async function labApi(mesh: LabMesh, peer: LabPeer): Promise<LabApi> {
  const url = new URL(/^ripple: api (\S+)$/m.exec(peer.process.stdout())?.[1] ?? '')
  const socketPath = join(mesh.root, `${peer.name}.sock`)
  const forwarder = mesh.lab.spawn(peer.netns, process.execPath, [
    '-e',
    `const net=require('net');net.createServer(c=>{const u=net.connect(${url.port},'127.0.0.1');c.pipe(u).pipe(c);u.on('error',()=>c.destroy());c.on('error',()=>u.destroy())}).listen(${JSON.stringify(socketPath)},()=>console.log('ready'))`,
  ])
  await new Promise((resolve) => forwarder.stdout?.once('data', resolve))
  const dispatcher = new Agent({ connect: { socketPath } })
  const token = (await readFile(join(peer.dataDir, 'api-token'), 'utf8')).trim()
  return {
    url: url.origin,
    token,
    fetch: ((input: string, init?: RequestInit) =>
      undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch,
  }
}
