/**
 * Whether every member reads the heartbeat fields added after 0.1.0 (RegistryInit.readersLenient):
 * 0.1.0 reads a heartbeat strictly and drops one with a field it does not know whole; lenient reads
 * came with the hello that states a release (hello/2, 0.2.0), so a member stating one reads them.
 */
import type { MeshVersions } from '../interface/release.ts'

const HELLO_OF_LENIENT_READS = 2

/** Without versions (no libp2p node to hear statements on) nothing says so: false. */
export function readersLenient(versions: Pick<MeshVersions, 'everySpeaks'> | null | undefined): boolean {
  return versions?.everySpeaks('hello', HELLO_OF_LENIENT_READS) ?? false
}
