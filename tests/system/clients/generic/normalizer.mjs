// json-api-normalizer (read only: it turns a document into a store keyed by type and id) with
// its defaults, over Node's fetch. Its store keys types camel-cased (`workspaceProvider`).
import normalizer from 'json-api-normalizer'
import { allPages, collection, run, request, listQuery } from './common.mjs'

// A CommonJS module: its function is the default export's `default`.
const normalize = normalizer.default ?? normalizer
const camel = name => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

async function page (url, resource) {
  const { document } = await request(url, resource)
  const store = normalize(document)
  const rows = Object.values(store[camel(resource.type)] ?? {})
  return { store, rows, document }
}

await run({
  async list (resource) {
    const { store, rows, document } = await page(`${collection(resource)}?${listQuery(resource)}`, resource)
    const included = rows
      .map(row => row.relationships?.[camel(resource.include)]?.data)
      .filter(linkage => linkage && store[camel(linkage.type)]?.[linkage.id])
      .map(linkage => linkage.type)
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
    return { id: rows[0].id, type: rows[0].type }
  }
})
