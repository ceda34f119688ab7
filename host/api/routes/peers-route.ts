import type { FastifyInstance } from 'fastify'
import type { PeerEntry } from '../../registry/index.ts'

export function registerPeersRoute(app: FastifyInstance, peers: () => Promise<PeerEntry[]>): void {
  app.get('/v1/peers', async () => ({ peers: await peers() }))
}
