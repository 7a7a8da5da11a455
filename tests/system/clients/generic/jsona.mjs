// jsona (a JSON:API formatter: no HTTP of its own) with its defaults, over Node's fetch:
// every answer deserialised, every write body serialised by it.
import { Jsona } from 'jsona'
import { allPages, collection, run, request, listQuery } from './common.mjs'

const jsona = new Jsona()

async function page (url, resource) {
  const { document } = await request(url, resource)
  return { rows: jsona.deserialize(document), document }
}

function model (resource, members) {
  const relationships = Object.entries(members.relationships ?? {})
  return {
    type: resource.type,
    ...members.attributes,
    ...Object.fromEntries(relationships.map(([name, linkage]) => [name, linkage])),
    relationshipNames: relationships.map(([name]) => name)
  }
}

await run({
  async list (resource) {
    const { rows, document } = await page(`${collection(resource)}?${listQuery(resource)}`, resource)
    const included = rows.map(row => row[resource.include]?.type).filter(Boolean)
    return { ids: rows.map(row => row.id), included, next: Boolean(document.links?.next) }
  },
  async pages (resource) {
    return allPages(resource, async url => {
      const { rows, document } = await page(url, resource)
      return { ids: rows.map(row => row.id), next: document.links?.next }
    })
  },
  async fetch (resource) {
    const { rows } = await page(`${collection(resource)}/${resource.fetch_id}`, resource)
    return { id: rows.id, type: rows.type }
  },
  async create (resource) {
    const body = jsona.serialize({ stuff: model(resource, resource.create) })
    const { status, document } = await request(collection(resource), resource, { method: 'POST', body })
    const row = jsona.deserialize(document)
    return { status, id: row.id, type: row.type }
  },
  async update (resource) {
    // The resource as fetched, changed and sent back whole, as jsona serialises it.
    const { rows: fetched } = await page(`${collection(resource)}/${resource.update_id}`, resource)
    Object.assign(fetched, resource.update.attributes)
    const body = jsona.serialize({ stuff: fetched })
    const url = `${collection(resource)}/${resource.update_id}`
    const { status, document } = await request(url, resource, { method: 'PATCH', body })
    const row = jsona.deserialize(document)
    return { status, id: row.id, attributes: Object.fromEntries(Object.keys(resource.update.attributes).map(k => [k, row[k]])) }
  },
  async delete (resource) {
    const url = `${collection(resource)}/${resource.delete_id}`
    const { status } = await request(url, resource, { method: 'DELETE' })
    return { status }
  }
})
