/**
 * Signing in: the one-time code of the link `ripple up` prints (traded for the token once), or a
 * pasted token (API keys reach /v1 and /mcp only). The token is kept in this tab's sessionStorage only.
 */
import { ApiClient, ApiRequestError } from '../../host/api/client/index.ts'

const KEY = 'ripple.token'

export function savedClient(): ApiClient | null {
  const token = sessionStorage.getItem(KEY)
  return token ? new ApiClient({ baseUrl: location.origin, token }) : null
}

/** Trades `code` for the token; answers the signed-in client, or throws what the daemon said. */
export async function signInWithCode(code: string): Promise<ApiClient> {
  const { token } = await new ApiClient({ baseUrl: location.origin, token: '' }).redeemLoginCode(code)
  return keep(token)
}

/** Checks a pasted token against the daemon before keeping it. */
export async function signInWithToken(token: string): Promise<ApiClient> {
  const client = new ApiClient({ baseUrl: location.origin, token })
  await client.whoAmI()
  return keep(token)
}

export function signOut(): void {
  sessionStorage.removeItem(KEY)
}

function keep(token: string): ApiClient {
  sessionStorage.setItem(KEY, token)
  return new ApiClient({ baseUrl: location.origin, token })
}

/** What to tell the person when signing in failed. */
export function signInError(err: unknown): string {
  if (err instanceof ApiRequestError) {
    if (err.errorName === 'InvalidLoginCodeError')
      return 'This login link was already used or has expired. Run "ripple token" for the token, or restart "ripple up" for a fresh link.'
    if (err.status === 401) return `Wrong token or key: the daemon refused it (${err.message}).`
    return err.message
  }
  return `Could not reach the daemon: ${(err as Error).message}`
}
