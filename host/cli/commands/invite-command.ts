/**
 * `ripple invite create`: an invite to this peer's private mesh (admins only), written to a file readable
 * by its owner only: it carries the mesh's key. The other machine joins with `ripple up --join-file <file>`.
 * `ripple invite revoke <agent|invite-id>`: an admin withdraws an agent, or an invite not used yet.
 */
import { writeFile } from 'node:fs/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import { AgentPubKeyB64Schema, InviteIdSchema, type Revocation } from '../../../zomes-bindings/index.ts'
import { type CreateInviteBody, DEFAULT_INVITE_MS } from '../../api/contract/index.ts'
import { releaseNeededBy } from '../../membership/invite.ts'
import { MAX_INVITE_USES } from '../../membership/invite-schema.ts'
import { judgedByJoinerText, WITNESSED_ADMISSION } from '../../membership/invite-service.ts'
import { printable } from '../../text/printable.ts'
import { parseDurationMs } from '../cli-options.ts'
import { formatDuration } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

interface CreateOptions extends TargetOptions {
  role: CreateInviteBody['role']
  expires: number
  uses: number
  out?: string
}

interface RevokeOptions extends TargetOptions {
  reason: string
}

/** An agent key or an invite id, as the Revocation names it. */
function parseRevocationTarget(text: string): Pick<Revocation, 'agent' | 'invite_id'> {
  if (InviteIdSchema.safeParse(text).success) return { agent: null, invite_id: text }
  if (AgentPubKeyB64Schema.safeParse(text).success) return { agent: text, invite_id: null }
  throw new InvalidArgumentError(
    'expected an agent key (uhCAk..., as `ripple peers` shows) or an invite id (32 hex characters)',
  )
}

export function inviteCommand(): Command {
  return new Command('invite')
    .description('invite another machine to this private mesh, or revoke one')
    .addCommand(createCommand())
    .addCommand(revokeCommand())
}

function revokeCommand(): Command {
  return addTargetOptions(
    new Command('revoke')
      .description(
        'revoke an agent, or an invite not used yet (admins only): every peer drops it and ignores its later ops',
      )
      .argument('<agent|invite-id>', 'the agent key, or the invite id', parseRevocationTarget)
      .option('--reason <text>', 'why, kept with the revocation', ''),
  ).action(async (target: Pick<Revocation, 'agent' | 'invite_id'>, options: RevokeOptions) => {
    const ref = await (await connectDaemon(options)).revoke({ ...target, reason: options.reason })
    const what = target.agent !== null ? `agent ${target.agent}` : `invite ${target.invite_id}`
    process.stdout.write(
      `${options.json ? JSON.stringify({ ...target, action_hash: ref.action_hash }, null, 2) : `revoked ${what} (${ref.action_hash})`}\n`,
    )
  })
}

function createCommand(): Command {
  return addTargetOptions(
    new Command('create')
      .description(
        'write an invite file (admins only); the other machine runs `ripple up --join-file <file>`',
      )
      .addOption(
        new Option('--role <role>', 'what the new peer may do')
          .choices(['member', 'worker', 'admin'])
          .default('member'),
      )
      .addOption(
        new Option('--expires <duration>', 'how long the invite can be used, e.g. 24h or 30m')
          .argParser(parseDurationMs)
          .default(DEFAULT_INVITE_MS, formatDuration(DEFAULT_INVITE_MS)),
      )
      .option(
        '--uses <n>',
        `how many machines it admits (1 to ${MAX_INVITE_USES}); the rules refuse any after them`,
        parseUses,
        1,
      )
      .option('--out <file>', 'where to write it (- for standard output; default: ripple-invite-<id>.json)'),
  ).action(async (options: CreateOptions) => {
    if (options.expires < 1) throw new InvalidArgumentError('--expires must be at least 1ms')
    const body: CreateInviteBody = { role: options.role, expires_in_ms: options.expires, uses: options.uses }
    const client = await connectDaemon(options)
    const invite = await client.createInvite(body)
    const text = `${JSON.stringify(invite, null, 2)}\n`
    if (options.out === '-') {
      process.stdout.write(text)
      return
    }
    const path = options.out ?? `ripple-invite-${invite.grant.invite_id.slice(0, 8)}.json`
    // Exclusive create: never overwrite a file, nor write through someone's link.
    await writeFile(path, text, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      throw new InvalidArgumentError(
        `cannot write ${path} (${err.code ?? err.message}); pass --out <new file>`,
      )
    })
    const until = new Date(invite.grant.expires_at).toISOString()
    const machines = (invite.grant.uses ?? 1) === 1 ? 'one machine' : `${invite.grant.uses} machines`
    const needs = releaseNeededBy(invite.grant)
    const redeemed =
      invite.grant.witnessed === true
        ? 'a member online witnesses its redemption, by its own clock; it needs Ripple 0.2.0 or later to redeem'
        : judgedByJoinerText(
            (await client.peers()).peers
              .filter(
                (p) =>
                  !p.self &&
                  p.status !== 'offline' &&
                  (p.release?.protocols.admission ?? 1) < WITNESSED_ADMISSION,
              )
              .map((p) => printable(p.name ?? p.agent)),
          )
    // Where the person making it reads, as in the file (`needs_release`): an older release refuses it.
    const joiners = `joiners need Ripple ${needs} or later`
    process.stdout.write(
      `${options.json ? JSON.stringify({ path, needs_release: needs, grant: invite.grant }, null, 2) : `wrote ${path} (${invite.grant.role}, ${machines}, until ${until}); on the other machine: ripple up --join-file ${path}\n${joiners}; ${redeemed}`}\n`,
    )
  })
}

function parseUses(text: string): number {
  const uses = Number(text)
  if (!Number.isInteger(uses) || uses < 1 || uses > MAX_INVITE_USES)
    throw new InvalidArgumentError(`--uses takes a whole number from 1 to ${MAX_INVITE_USES}`)
  return uses
}
