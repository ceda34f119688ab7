/** Builds a route's URL path from its pattern, so no caller writes an API path by hand. */

/** Thrown when a route's path needs a param the caller did not give. */
export class MissingRouteParamError extends Error {
  static override readonly name = 'MissingRouteParamError'
  constructor(path: string, param: string) {
    super(`route ${path} needs the param "${param}"`)
    this.name = 'MissingRouteParamError'
  }
}

/** `/api/tasks/:hash` with `{ hash }` -> `/api/tasks/<hash>` (each param URL-encoded), plus the query. */
export function routePath(
  path: string,
  params: Record<string, string> = {},
  query: Record<string, string | number> = {},
): string {
  const filled = path.replace(/:([a-z_]+)/gi, (_, name: string) => {
    const value = params[name]
    if (value === undefined) throw new MissingRouteParamError(path, name)
    return encodeURIComponent(value)
  })
  const search = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString()
  return search === '' ? filled : `${filled}?${search}`
}
