import type { NodeCapability } from '../../zomes-bindings/index.ts'

const GIB = 1024 ** 3

/**
 * Whether a fresh capability differs enough from the advertised one to write an update.
 * Free disk moves with every log line, so it only counts when it moved by more than 1 GiB or 5%:
 * each update is a chain entry every peer replicates.
 */
export function capabilityChanged(advertised: NodeCapability, fresh: NodeCapability): boolean {
  const before = advertised.hardware.disk_free_bytes
  const after = fresh.hardware.disk_free_bytes
  if (Math.abs(after - before) > Math.max(GIB, before * 0.05)) return true
  const withoutDisk = (c: NodeCapability) => ({ ...c, hardware: { ...c.hardware, disk_free_bytes: 0 } })
  return canonicalJson(withoutDisk(advertised)) !== canonicalJson(withoutDisk(fresh))
}

/** JSON with object keys sorted, so key order never counts as a change. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}
