/**
 * The words every surface uses when two releases differ: which protocols two peers speak at different
 * versions, and who should upgrade. One place, so the log, a refused request and the CLI say the same.
 */
import type { ReleaseStatement } from './release.ts'

/** A protocol two peers speak at different versions (null: not spoken at all). */
export interface ProtocolGap {
  protocol: string
  ours: number | null
  theirs: number | null
}

/** Negotiated per connection (a dialler offers every version it speaks): never a gap between peers. */
const NEGOTIATED = new Set(['hello'])

/** The protocols `theirs` speaks at another version than `own` (or one of them not at all), by name. */
export function protocolGaps(own: ReleaseStatement, theirs: ReleaseStatement): ProtocolGap[] {
  const names = new Set([...Object.keys(own.protocols), ...Object.keys(theirs.protocols)])
  return [...names]
    .filter((protocol) => !NEGOTIATED.has(protocol))
    .sort()
    .map((protocol) => ({
      protocol,
      ours: own.protocols[protocol] ?? null,
      theirs: theirs.protocols[protocol] ?? null,
    }))
    .filter((gap) => gap.ours !== gap.theirs)
}

/** "0.2.0 (hello 2, signals 1, …)": a release and the version of each protocol it speaks. */
export function statementText(statement: ReleaseStatement): string {
  const protocols = Object.entries(statement.protocols).map(([name, version]) => `${name} ${version}`)
  return `${statement.release} (${protocols.join(', ')})`
}

/** -1, 0 or 1 as release `a` is before, equal to or after `b` (numeric dotted parts; a missing part is 0). */
export function compareReleases(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/, 3).map((p) => Number.parseInt(p, 10) || 0)
  const [pa, pb] = [parts(a), parts(b)]
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  return 0
}

/** Who should upgrade: the side behind on every gap, else the older release. */
function whoUpgrades(
  peer: string,
  own: ReleaseStatement,
  theirs: ReleaseStatement,
  gaps: ProtocolGap[],
): string {
  const ahead = (gap: ProtocolGap) => (gap.theirs ?? 0) > (gap.ours ?? 0)
  if (gaps.every(ahead)) return 'upgrade this peer'
  if (!gaps.some(ahead)) return `upgrade ${peer}`
  const order = compareReleases(theirs.release, own.release)
  return order > 0 ? 'upgrade this peer' : order < 0 ? `upgrade ${peer}` : `upgrade ${peer} or this peer`
}

const versions = (gaps: ProtocolGap[], side: 'ours' | 'theirs') =>
  gaps.map((gap) => `${gap.protocol} ${gap[side] ?? 'none'}`).join(', ')

/**
 * "peer X runs Ripple 0.3.0 (direct 3), this peer 0.2.0 (direct 2): upgrade this peer"; null when the
 * two speak every protocol at the same version.
 */
export function gapText(peer: string, own: ReleaseStatement, theirs: ReleaseStatement): string | null {
  const gaps = protocolGaps(own, theirs)
  if (gaps.length === 0) return null
  return (
    `peer ${peer} runs Ripple ${theirs.release} (${versions(gaps, 'theirs')}), ` +
    `this peer ${own.release} (${versions(gaps, 'ours')}): ${whoUpgrades(peer, own, theirs, gaps)}`
  )
}

/**
 * Why a stream to `peer` found no version of `protocol` that this peer speaks: "peer X speaks
 * direct-infer 1 only (Ripple 0.1.0); this peer needs 2: upgrade X". `need` are the versions this
 * peer speaks, `spoken` those the peer serves (as it told identify), `release` what its hello said
 * (undefined: never met).
 */
export function missingVersionText(
  peer: string,
  protocol: string,
  need: readonly number[],
  spoken: readonly number[],
  release: string | undefined,
): string {
  const ripple = release === undefined ? '' : ` (Ripple ${release})`
  const needs = need.join(' or ')
  if (spoken.length === 0)
    return `peer ${peer} does not serve ${protocol}${ripple}; this peer speaks ${protocol} ${needs}`
  if (Math.min(...spoken) > Math.max(...need)) {
    return `peer ${peer} speaks ${protocol} ${spoken.join(', ')}${ripple}; this peer speaks ${needs} only: upgrade this peer`
  }
  return `peer ${peer} speaks ${protocol} ${spoken.join(', ')} only${ripple}; this peer needs ${needs}: upgrade ${peer}`
}

/**
 * Something written in a newer format than this release reads, e.g. "this invite was made by a newer
 * Ripple (invite format 2); this peer 0.2.0 reads format 1: upgrade this peer". `subject` says what
 * and by whom ("this invite was made"), `format` names the format ("invite format 2", with the
 * writer's release where known).
 */
export function newerFormatText(subject: string, format: string, reads: number, release: string): string {
  return `${subject} by a newer Ripple (${format}); this peer ${release} reads format ${reads}: upgrade this peer`
}
