// @orbit/jsonapi 0.17 (with @orbit/records' schema) with its defaults: a model per type, named
// by the type, whose collection's path it derives by pluralising and dasherising the name
// (`workspace-providers`), a type and members sent as named. A new record gets the id Orbit
// generates for it, which the create sends as a client-generated id, which the server takes
// (docs/api.md): a version 7 UUID, through the schema's `generateId` (a ledger's id carries its
// row's time; docs/generic-client.md). A link is followed with the request option `url`; the page size and
// the include are the query's options.
import { JSONAPISource } from '@orbit/jsonapi'
import { RecordSchema } from '@orbit/records'
import { plan, run, bearer } from './common.mjs'

const hasOne = type => ({ kind: 'hasOne', type })

// A version 7 UUID (RFC 9562): the milliseconds of now, then random bits.
function uuidv7 () {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  const now = Date.now()
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(now / 2 ** (8 * (5 - i))) % 256
  bytes[6] = (bytes[6] & 0x0f) | 0x70
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-')
}

const schema = new RecordSchema({
  generateId: () => uuidv7(),
  models: {
    account: { attributes: { account_type: { type: 'string' }, account_name: { type: 'string' } } },
    provider: { attributes: { name: { type: 'string' }, slug: { type: 'string' } } },
    workspace: { attributes: { name: { type: 'string' } } },
    workspace_connector: {},
    workspace_group: { attributes: { name: { type: 'string' } } },
    account_workspace_connector: {
      attributes: { direction: { type: 'string' } },
      relationships: { account: hasOne('account'), workspace_connector: hasOne('workspace_connector') }
    },
    workspace_provider: {
      attributes: { is_selected: { type: 'boolean' }, is_matched: { type: 'boolean' } },
      relationships: { workspace: hasOne('workspace'), provider: hasOne('provider') }
    },
    workspace_group_workspace: {
      relationships: { workspace_group: hasOne('workspace_group'), workspace: hasOne('workspace') }
    }
  }
})
const origin = new URL(plan.base)

function source (resource) {
  return new JSONAPISource({
    schema,
    host: origin.origin,
    namespace: origin.pathname.replace(/^\//, ''),
    defaultFetchSettings: { headers: bearer(resource) }
  })
}

// A rejection with the server's document: its status and its codes.
async function answered (action) {
  try {
    return await action()
  } catch (error) {
    const document = error.data ?? {}
    throw Object.assign(new Error(String(error.message ?? error)), {
      status: error.response?.status ?? null,
      errors: document.errors ?? []
    })
  }
}

async function page (remote, resource, options) {
  const { data, details } = await remote.query(q => q.findRecords(resource.type), { fullResponse: true, ...options })
  return { rows: data, document: details[0].document }
}

await run({
  async list (resource) {
    const remote = source(resource)
    const { rows, document } = await page(remote, resource, {
      include: [resource.include],
      settings: { params: { page: { size: resource.page_size } } }
    })
    const included = new Set((document.included ?? []).map(r => `${r.type}/${r.id}`))
    const linked = rows.map(row => row.relationships?.[resource.include]?.data).filter(Boolean)
    return {
      ids: rows.map(row => row.id),
      included: linked.filter(l => included.has(`${l.type}/${l.id}`)).map(l => l.type),
      next: Boolean(document.links?.next)
    }
  },
  async pages (resource) {
    const remote = source(resource)
    const ids = []
    let options = { settings: { params: { page: { size: resource.page_size } } } }
    let pages = 0
    while (options) {
      const { rows, document } = await page(remote, resource, options)
      ids.push(...rows.map(row => row.id))
      pages += 1
      options = document.links?.next ? { url: document.links.next } : null
    }
    return { ids, pages }
  },
  async fetch (resource) {
    const row = await source(resource).query(q => q.findRecord({ type: resource.type, id: resource.fetch_id }))
    return { id: row.id, type: row.type }
  },
  async create (resource) {
    const record = {
      type: resource.type,
      attributes: resource.create.attributes,
      relationships: Object.fromEntries(
        Object.entries(resource.create.relationships).map(([name, link]) => [name, { data: link }])
      )
    }
    const { data, details } = await answered(() =>
      source(resource).update(t => t.addRecord(record), { fullResponse: true })
    )
    const status = details?.[0]?.response?.status ?? null
    return { status, id: data.id, type: data.type }
  },
  async update (resource) {
    const remote = source(resource)
    const { details } = await answered(() =>
      remote.update(
        t => t.updateRecord({ type: resource.type, id: resource.update_id, attributes: resource.update.attributes }),
        { fullResponse: true }
      )
    )
    const row = await remote.query(q => q.findRecord({ type: resource.type, id: resource.update_id }))
    const attributes = Object.fromEntries(Object.keys(resource.update.attributes).map(k => [k, row.attributes?.[k]]))
    return { status: details?.[0]?.response?.status ?? null, id: row.id, attributes }
  },
  async delete (resource) {
    const { details } = await answered(() =>
      source(resource).update(t => t.removeRecord({ type: resource.type, id: resource.delete_id }), { fullResponse: true })
    )
    return { status: details?.[0]?.response?.status ?? null }
  }
})
