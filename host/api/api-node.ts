/**
 * What the API serves from: the node's components (each route reads the one it needs; an absent one
 * means its routes are absent, as on a host that schedules nothing), and the few things the node does
 * across them (its status, pulls, invites). A `HostNode` is one; tests give only the parts they use.
 */

import type { ModelsPort } from '../inference/models-port.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { LivePeers } from '../interface/live-peers.ts'
import type { NetworkPort } from '../interface/network-port.ts'
import type { MetricsPort } from '../metrics/metrics-port.ts'
import type { AliasesPort } from '../requests/alias-service.ts'
import type { DirectPort } from '../requests/direct-port.ts'
import type { RequestsPort } from '../requests/requests-port.ts'
import type { SplitsPort } from '../split/splits-port.ts'
import type { MeshUsagePort } from '../usage/mesh-usage-port.ts'
import type { UsagePort } from '../usage/usage-port.ts'
import type { StatusView } from './contract/index.ts'
import type { ArtifactApi } from './routes/artifacts-route.ts'
import type { InviteApi } from './routes/invites-route.ts'
import type { MemoryApi } from './routes/memory-route.ts'
import type { ModelPuller } from './routes/model-pull-route.ts'
import type { PolicyApi } from './routes/policies-route.ts'
import type { TaskApi } from './routes/tasks-route.ts'

export interface ApiComponents {
  conductor: Pick<ConductorPort, 'callZome'>
  peers: LivePeers
  /** `GET /api/records/:hash/wait`, where the backend can tell. */
  backend?: Pick<NetworkPort, 'waitForAction'>
  models: Pick<ModelsPort, 'list' | 'load' | 'unload' | 'onChange'>
  /** Models split over peers (`?split=1` loads, and the splits in the models list). */
  splits?: Pick<SplitsPort, 'load' | 'views'>
  scheduler?: TaskApi['scheduler']
  workers?: TaskApi['workers']
  /** The records of requests routed straight to their runner. */
  direct?: Pick<DirectPort, 'served' | 'checkLeaf'>
  policies?: PolicyApi
  artifacts?: ArtifactApi | null
  memory?: MemoryApi | null
  /** The OpenAI- and Anthropic-compatible endpoint (`/v1`) runs requests on the mesh with it. */
  requests?: RequestsPort
  /** The model aliases `/v1` answers and `/api/models/aliases` manages. */
  aliases?: AliasesPort
  /** GET /metrics, and the count of API requests. */
  metrics?: MetricsPort
  /** GET /api/usage, and the notes /v1 keeps of each answer (its API key, its reasoning). */
  usage?: Pick<UsagePort, 'rows' | 'note'>
  /** Asks the other peers what they signed about this member (null: none reached directly). */
  meshUsage?: Pick<MeshUsagePort, 'ask'> | null
}

export interface ApiNode {
  components: ApiComponents
  status(): StatusView
  /** Invites to this peer's private mesh. */
  invites?: InviteApi
  /** Fetches a model into the models directory (POST /api/models/pull). */
  pull?: ModelPuller
  /** Called with each task submitted through the API (the metrics follow it). */
  onSubmitted?(hash: string): void
}
