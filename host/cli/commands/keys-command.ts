/**
 * `ripple keys create|ls|revoke`: API keys for the OpenAI-compatible endpoint, kept hashed in the data
 * dir (`api-keys.json`, mode 0600). The key is printed once, at creation; a running daemon sees a new
 * or revoked key at once (it re-reads the file when it changes).
 */
import { Command, Option } from 'commander'
import { ApiKeyStore, type ApiKeyView, apiKeysPath } from '../../api/api-keys.ts'
import { BANDS, type Band } from '../../requests/priority.ts'
import { type KeyLimits, limitsText } from '../../usage/key-limits.ts'
import { parseDurationMs, parseIntegerIn } from '../cli-options.ts'
import { formatTable } from '../human-format.ts'
import { onlyRunningDataDir } from '../locate-daemon.ts'

interface KeysOptions {
  dataDir?: string
  json?: boolean
}

interface CreateOptions extends KeysOptions, KeyLimits {
  models?: string
  expires?: number
  name?: string
  tokensPerDay?: number
  sessionTurns?: number
  sessionTokens?: number
  priority?: Band
}

const count = parseIntegerIn(1, 1e12)

export function keysCommand(): Command {
  const keys = new Command('keys').description('API keys for the OpenAI-compatible endpoint (/v1)')
  const withDataDir = (command: Command) =>
    command
      .option('--data-dir <dir>', 'data dir of the peer (default: the only running one)')
      .option('--json', 'print JSON for machines instead of text')
  keys.addCommand(
    withDataDir(new Command('create'))
      .description('make a key (printed once: keep it)')
      .option('--models <m,...>', 'models the key may use (default: all)')
      .option('--expires <duration>', 'lifetime, e.g. 30d or 12h (default: none)', parseDurationMs)
      .option('--name <name>', 'a name to recognise it by')
      .option('--rpm <n>', 'requests per minute it may make (default: no limit)', count)
      .option('--tpm <n>', 'tokens (in + out) per minute it may take', count)
      .option('--tokens-per-day <n>', 'tokens (in + out) per 24 hours it may take', count)
      .option('--concurrent <n>', 'requests it may have unanswered at once (default: 8)', count)
      .option('--session-turns <n>', 'requests one coding-agent session may make (its session header)', count)
      .option('--session-tokens <n>', 'tokens (in + out) one coding-agent session may take', count)
      .addOption(
        new Option(
          '--priority <band>',
          "its requests' priority band, and the highest its x-ripple-priority header may ask for (default: agent, any asked for)",
        ).choices(BANDS),
      )
      .action(async (options: CreateOptions) => {
        const store = await storeFor(options)
        const { rpm, tpm, tokensPerDay, concurrent, sessionTurns, sessionTokens } = options
        const { key, record } = await store.create({
          limits: {
            ...(rpm !== undefined && { rpm }),
            ...(tpm !== undefined && { tpm }),
            ...(tokensPerDay !== undefined && { tokens_per_day: tokensPerDay }),
            ...(concurrent !== undefined && { concurrent }),
            ...(sessionTurns !== undefined && { session_turns: sessionTurns }),
            ...(sessionTokens !== undefined && { session_tokens: sessionTokens }),
          },
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.priority && { priority: options.priority }),
          models:
            options.models
              ?.split(',')
              .map((m) => m.trim())
              .filter(Boolean) ?? [],
          ...(options.expires === undefined ? {} : { expiresAt: new Date(Date.now() + options.expires) }),
        })
        if (options.json) return print({ key, ...record })
        process.stdout.write(`${key}\n`)
        process.stderr.write(
          `ripple: key ${record.id} made${record.models ? ` for ${record.models.join(', ')}` : ' for every model'}` +
            `${record.expires_at ? `, expires ${record.expires_at}` : ''}` +
            `${record.limits ? `, limited to ${limitsText(record.limits)}` : ''}` +
            `${record.priority ? `, priority ${record.priority} at most` : ''}; it is shown only now\n`,
        )
      }),
  )
  keys.addCommand(
    withDataDir(new Command('ls'))
      .description('list the keys (never the keys themselves)')
      .action(async (options: KeysOptions) => {
        const list = await (await storeFor(options)).list()
        if (options.json) return print(list)
        process.stdout.write(`${table(list)}\n`)
      }),
  )
  keys.addCommand(
    withDataDir(new Command('revoke'))
      .description('revoke a key by id; it is refused from now on')
      .argument('<id>')
      .action(async (id: string, options: KeysOptions) => {
        const record = await (await storeFor(options)).revoke(id)
        if (options.json) return print(record)
        process.stdout.write(`ripple: key ${record.id} revoked at ${record.revoked_at}\n`)
      }),
  )
  return keys
}

async function storeFor(options: KeysOptions): Promise<ApiKeyStore> {
  return new ApiKeyStore(apiKeysPath(options.dataDir ?? (await onlyRunningDataDir())))
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

function table(keys: readonly ApiKeyView[]): string {
  if (keys.length === 0) return 'no API keys (make one with `ripple keys create`)'
  const now = Date.now()
  return formatTable(
    ['ID', 'NAME', 'MODELS', 'LIMITS', 'CREATED', 'EXPIRES', 'STATE'],
    keys.map((k) => [
      k.id,
      k.name ?? '',
      k.models?.join(',') ?? 'all',
      limitsText(k.limits),
      k.created_at,
      k.expires_at ?? 'never',
      k.revoked_at ? 'revoked' : k.expires_at && Date.parse(k.expires_at) <= now ? 'expired' : 'live',
    ]),
  )
}
