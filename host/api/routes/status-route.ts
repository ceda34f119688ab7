import type { FastifyInstance } from 'fastify'
import { routes, type StatusView } from '../contract/index.ts'

export function registerStatusRoute(app: FastifyInstance, status: () => StatusView): void {
  app.get(routes.status.path, async () => status())
}
