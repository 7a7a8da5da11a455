// What every scenario here shares: the plan the test made (WELLAPI_PLAN, below), one step per
// operation and resource, and the results printed as one JSON object, an entry per step:
// {"ok": true, "value": ...} or {"ok": false, "status": ..., "codes": [...], "message": ...}.
// tests/system/test_generic_clients.py runs each scenario (after `npm ci` here) and asserts it.
//
// WELLAPI_PLAN: {"base": the server's /v1, "resources": [{"name", "type" (the type reads
// emit), "path" (the collection's path), "key" (the API key that writes it), "include" (a
// relationship), "page_size", "fetch_id", "update_id", "delete_id", "create": {"attributes",
// "relationships": {name: {"type", "id"}}}, "update": {"attributes"}}]}.

export const plan = JSON.parse(process.env.WELLAPI_PLAN)
// What the line of results starts with.
const RESULTS = 'WELLAPI_RESULTS '
export const OPERATIONS = ['list', 'pages', 'fetch', 'create', 'update', 'delete']

// The error a client raises, whatever its shape: the HTTP status and the JSON:API codes.
function failure (error) {
  const response = error.response ?? {}
  const status = response.status ?? error.status ?? null
  const errors = response.data?.errors ?? error.errors ?? error.data?.errors ?? []
  const codes = (Array.isArray(errors) ? errors : []).map(e => e.code ?? e.title ?? String(e.status))
  return { ok: false, status, codes, message: String(error.message ?? error) }
}

// Runs each operation the client implements on each resource of the plan, in OPERATIONS'
// order, and prints the results. An operation a client cannot address is left out of `client`.
export async function run (client) {
  const results = {}
  for (const resource of plan.resources) {
    for (const operation of OPERATIONS) {
      if (!(operation in client)) continue
      try {
        results[`${resource.name}:${operation}`] = { ok: true, value: await client[operation](resource) }
      } catch (error) {
        results[`${resource.name}:${operation}`] = failure(error)
      }
    }
  }
  // One line of its own: a client may log to stdout too (devour-client does).
  process.stdout.write(`\n${RESULTS}${JSON.stringify(results)}\n`)
}

// The Authorization header of a resource's key.
export function bearer (resource) {
  return { Authorization: `Bearer ${resource.key}` }
}

// The plain fetch every client without an HTTP layer of its own (jsona, json-api-normalizer)
// is used with: the document of a JSON:API answer, or a thrown failure.
export async function request (url, resource, { method = 'GET', body } = {}) {
  const response = await fetch(url, {
    method,
    headers: {
      ...bearer(resource),
      Accept: 'application/vnd.api+json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/vnd.api+json' })
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  const document = text ? JSON.parse(text) : null
  if (!response.ok) {
    throw Object.assign(new Error(`${method} ${url}: ${response.status}`), {
      status: response.status,
      errors: document?.errors ?? []
    })
  }
  return { status: response.status, document }
}

// A resource's collection URL.
export function collection (resource) {
  return `${plan.base}/${resource.path}`
}

// The query string of a list: the include and the page size.
export function listQuery (resource) {
  return `include=${resource.include}&page[size]=${resource.page_size}`
}

// Every page of a resource's collection, by the `links.next` of each: `read(url)` answers
// {ids, next} for one page.
export async function allPages (resource, read) {
  const ids = []
  let url = `${collection(resource)}?page[size]=${resource.page_size}`
  let pages = 0
  while (url) {
    const page = await read(url)
    ids.push(...page.ids)
    pages += 1
    url = page.next ?? null
  }
  return { ids, pages }
}
