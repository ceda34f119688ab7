export {
  buildCapability,
  type CapabilityFacts,
  InvalidCapabilityError,
  modelInfo,
} from './build-capability.ts'
export { capabilityChanged } from './capability-changed.ts'
export { memberCount } from './member-count.ts'
export { PeerReport } from './peer-report.ts'
export { type HeartbeatConfig, peerStatus } from './peer-status.ts'
export { PeerView } from './peer-view.ts'
export type { RegistryPort } from './registry-port.ts'
export { type RegistryInit, RegistryNotStartedError, RegistryService } from './registry-service.ts'
export type { ReportParts, ReportPort } from './report-port.ts'
