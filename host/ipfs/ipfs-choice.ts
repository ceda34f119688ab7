/**
 * `--ipfs helia` (embedded, the default) or `--ipfs kubo[:url]` (a Kubo daemon's RPC API), parsed
 * once (light: the CLI parses it before loading the daemon) and opened by `openIpfs`.
 */
export const DEFAULT_KUBO_URL = 'http://127.0.0.1:5001'

export type IpfsChoice = { kind: 'helia' } | { kind: 'kubo'; url: string }

export class InvalidIpfsChoiceError extends Error {
  static override readonly name = 'InvalidIpfsChoiceError'
  constructor(text: string, why: string) {
    super(`--ipfs ${text}: ${why}; use "helia" or "kubo[:http://127.0.0.1:5001]"`)
    this.name = 'InvalidIpfsChoiceError'
  }
}

export function parseIpfsChoice(text: string): IpfsChoice {
  if (text === 'helia') return { kind: 'helia' }
  if (text === 'kubo') return { kind: 'kubo', url: DEFAULT_KUBO_URL }
  if (text.startsWith('kubo:')) {
    const url = text.slice('kubo:'.length)
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new InvalidIpfsChoiceError(text, `"${url}" is not an http(s) URL`)
    }
    return { kind: 'kubo', url }
  }
  throw new InvalidIpfsChoiceError(text, 'unknown backend')
}
