import type { FastifyInstance } from 'fastify'
import type { NodeCapability } from '../../../zomes-bindings/index.ts'
import type { UnusableModel } from '../../inference/gguf-scan.ts'

/** What GET /api/status answers: who this peer is, where, and what it offers. */
export interface StatusView {
  agent: string
  network: string
  backend: 'embedded' | 'holochain'
  version: string
  pid: number
  data_dir: string
  models_dir: string
  uptime_ms: number
  capability: NodeCapability
  /** Model files found but not advertised, with the reason. */
  unusable_models: UnusableModel[]
}

export function registerStatusRoute(app: FastifyInstance, status: () => StatusView): void {
  app.get('/api/status', async () => status())
}
