/**
 * DNS-rebinding protection for `/mcp`: a web page on a name the attacker controls can point it at
 * 127.0.0.1, but its requests still carry the attacker's name in Host (and its page's Origin). Only
 * loopback names (and the address the API was told to listen on) are accepted.
 */

const LOOPBACK_NAMES = new Set(['localhost', '[::1]'])

function isLoopbackName(hostname: string, extra: readonly string[]): boolean {
  const name = hostname.toLowerCase()
  return LOOPBACK_NAMES.has(name) || /^127(\.\d{1,3}){3}$/.test(name) || extra.includes(name)
}

/** The Host header names this machine by a loopback name (any port). */
export function hostAllowed(host: string | undefined, extra: readonly string[] = []): boolean {
  if (!host) return false
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host)
  return match !== null && isLoopbackName(match[1]!, extra)
}

/** No Origin (not a browser), or a page served from a loopback name over http(s). */
export function originAllowed(origin: string | undefined, extra: readonly string[] = []): boolean {
  if (origin === undefined) return true
  try {
    const url = new URL(origin)
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname, extra)
  } catch {
    // `null` (sandboxed pages, file:) and anything else unparsable.
    return false
  }
}
