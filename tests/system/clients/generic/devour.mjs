// devour-client with its defaults: a model per type, named by the type; it derives the
// collection's path by pluralising the name (`/account_workspace_connectors`, which the server
// answers with a 308 to the route, which axios follows with the method and the body) and sends
// the type as that plural.
import JsonApi from 'devour-client'
import { allPages, plan, run, bearer, listQuery } from './common.mjs'

// What each model holds: its attributes and relationships, as devour declares them.
const MODELS = {
  account_workspace_connector: {
    direction: '',
    account: { jsonApi: 'hasOne', type: 'account' },
    workspace_connector: { jsonApi: 'hasOne', type: 'workspace_connector' }
  },
  workspace_provider: {
    is_selected: '',
    is_matched: '',
    workspace: { jsonApi: 'hasOne', type: 'workspace' },
    provider: { jsonApi: 'hasOne', type: 'provider' }
  },
  workspace_group_workspace: {
    workspace_group: { jsonApi: 'hasOne', type: 'workspace_group' },
    workspace: { jsonApi: 'hasOne', type: 'workspace' }
  },
  // The types the lists include: devour deserialises an included record by its model.
  account: { account_type: '', account_name: '' },
  provider: { name: '', slug: '' },
  workspace_group: { name: '' }
}

// One client per key; the answer's HTTP status observed (devour answers the document only,
// and rejects a 4xx with its errors keyed by pointer, each its title and detail alone).
function client (resource) {
  const api = new JsonApi({ apiUrl: plan.base })
  api.headers = bearer(resource)
  for (const [name, attributes] of Object.entries(MODELS)) api.define(name, attributes)
  api.observed = null
  api.axios.interceptors.response.use(response => {
    api.observed = response.status
    return response
  }, error => {
    api.observed = error.response?.status ?? null
    throw error
  })
  return api
}

// A rejection as common.mjs reports one: the status observed and the errors' titles.
async function observed (api, action) {
  try {
    return await action()
  } catch (errors) {
    throw Object.assign(new Error(JSON.stringify(errors)), {
      status: api.observed,
      errors: Object.values(errors ?? {})
    })
  }
}

function linked (relationships) {
  return Object.fromEntries(Object.entries(relationships).map(([name, l]) => [name, { id: l.id, type: l.type }]))
}

await run({
  async list (resource) {
    const api = client(resource)
    const { data, links } = await api.findAll(resource.type, {
      include: resource.include,
      page: { size: resource.page_size }
    })
    const included = data.map(row => row[resource.include]?.type).filter(Boolean)
    return { ids: data.map(row => row.id), included, next: Boolean(links?.next) }
  },
  async pages (resource) {
    const api = client(resource)
    return allPages(resource, async url => {
      const { data, links } = await api.request(url)
      return { ids: data.map(row => row.id), next: links?.next }
    })
  },
  async fetch (resource) {
    const { data } = await client(resource).find(resource.type, resource.fetch_id)
    return { id: data.id, type: data.type }
  },
  async create (resource) {
    const api = client(resource)
    const { data } = await api.create(resource.type, {
      ...resource.create.attributes,
      ...linked(resource.create.relationships)
    })
    return { status: api.observed, id: data.id, type: data.type }
  },
  async update (resource) {
    const api = client(resource)
    const { data } = await observed(api, () =>
      api.update(resource.type, { id: resource.update_id, ...resource.update.attributes })
    )
    const attributes = Object.fromEntries(Object.keys(resource.update.attributes).map(k => [k, data[k]]))
    return { status: api.observed, id: data.id, attributes }
  },
  async delete (resource) {
    const api = client(resource)
    await api.destroy(resource.type, resource.delete_id)
    return { status: api.observed }
  }
})
