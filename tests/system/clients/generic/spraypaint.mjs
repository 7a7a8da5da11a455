// spraypaint (Graphiti's client) with its defaults: a model per type, named by the type
// (`jsonapiType`), which is also its collection's path (`/workspace_provider`, answered with a
// 308 to the route, which fetch follows with the method and the body); attributes camel-cased
// on the client and snake-cased on the wire (its default keyCase). It pages with page[number]
// and page[size] (`page(n).per(size)`), never by a link: its run asks for the next number
// while the answer's `links.next` says there is one. No setting of its own: it sends the key
// (its `jwt`) as `Authorization: Token token="..."`, its default, which the API reads as Bearer.
import spraypaint from 'spraypaint'
import { plan, run } from './common.mjs'

const { SpraypaintBase, attr, belongsTo } = spraypaint
const origin = new URL(plan.base)

function models (resource) {
  const Base = SpraypaintBase.extend({
    static: {
      baseUrl: origin.origin,
      apiNamespace: origin.pathname,
      jwt: resource.key
    }
  })
  const model = (type, attrs) => Base.extend({ static: { jsonapiType: type }, attrs })
  return {
    Base,
    account: model('account', { accountType: attr(), accountName: attr() }),
    provider: model('provider', { name: attr(), slug: attr() }),
    workspace: model('workspace', { name: attr() }),
    workspace_connector: model('workspace_connector', {}),
    workspace_group: model('workspace_group', { name: attr() }),
    account_workspace_connector: model('account_workspace_connector', {
      direction: attr(),
      account: belongsTo(),
      workspaceConnector: belongsTo()
    }),
    workspace_provider: model('workspace_provider', {
      isSelected: attr(),
      isMatched: attr(),
      workspace: belongsTo(),
      provider: belongsTo()
    }),
    workspace_group_workspace: model('workspace_group_workspace', {
      workspaceGroup: belongsTo(),
      workspace: belongsTo()
    })
  }
}

// The header its defaults send, checked once: the run proves the API reads it.
const sent = models({ key: 'k' }).Base.fetchOptions().headers.Authorization
if (sent !== 'Token token="k"') throw new Error(`spraypaint's default header changed: ${sent}`)

const camel = name => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

// A save or destroy that answered false: its status is not told, its errors are the record's.
function refused (record) {
  const errors = Object.values(record.errors ?? {})
  return Object.assign(new Error(`refused: ${JSON.stringify(record.errors)}`), { errors })
}

await run({
  async list (resource) {
    const Model = models(resource)[resource.type]
    const { data, raw } = await Model.includes(camel(resource.include)).per(resource.page_size).all()
    const included = data.map(row => row[camel(resource.include)]?.klass.jsonapiType).filter(Boolean)
    return { ids: data.map(row => row.id), included, next: Boolean(raw.links?.next) }
  },
  async pages (resource) {
    const Model = models(resource)[resource.type]
    const ids = []
    let pages = 0
    for (let number = 1; ; number++) {
      const { data, raw } = await Model.per(resource.page_size).page(number).all()
      ids.push(...data.map(row => row.id))
      pages += 1
      if (!raw.links?.next) return { ids, pages }
    }
  },
  async fetch (resource) {
    const { data } = await models(resource)[resource.type].find(resource.fetch_id)
    return { id: data.id, type: data.klass.jsonapiType }
  },
  async create (resource) {
    const all = models(resource)
    const record = new all[resource.type]()
    for (const [name, value] of Object.entries(resource.create.attributes)) record[camel(name)] = value
    for (const [name, link] of Object.entries(resource.create.relationships)) {
      const parent = new all[link.type]({ id: link.id })
      parent.isPersisted = true
      record[camel(name)] = parent
    }
    if (!(await record.save({ with: Object.keys(resource.create.relationships).map(camel) }))) throw refused(record)
    return { status: null, id: record.id, type: record.klass.jsonapiType }
  },
  async update (resource) {
    const Model = models(resource)[resource.type]
    const { data } = await Model.find(resource.update_id)
    for (const [name, value] of Object.entries(resource.update.attributes)) data[camel(name)] = value
    if (!(await data.save())) throw refused(data)
    const { data: again } = await Model.find(resource.update_id)
    const attributes = Object.fromEntries(Object.keys(resource.update.attributes).map(k => [k, again[camel(k)]]))
    return { status: null, id: again.id, attributes }
  },
  async delete (resource) {
    const Model = models(resource)[resource.type]
    const { data } = await Model.find(resource.delete_id)
    if (!(await data.destroy())) throw refused(data)
    try {
      await Model.find(resource.delete_id)
      return { status: null, after: 200 }
    } catch (error) {
      return { status: null, after: error.response?.status ?? null }
    }
  }
})
