// kitsu, a JSON:API client from npm, against the local server: every operation a client may
// do here, each with the client's defaults; each write again with the setting
// docs/generic-client.md names (camelCaseTypes: false, the model named in kebab case), and with
// the legacy type through request(), which the server still takes. Prints one JSON
// object, an entry per operation: {"ok": true, "value": ...} or
// {"ok": false, "status": ..., "codes": [...]}. tests/system/test_kitsu_client.py runs it
// (after `npm ci` here) and asserts each entry.
//
// Input, from the environment: WELLAPI_BASE_URL (the server's /v1), WELLAPI_KEY (a member key)
// and WELLAPI_IDS, a JSON object of the ids the test made: workspace; rows, per client, one
// workspace_provider for each of update, round_trip, round_trip_with_include and delete; and
// providers, one per client, that the workspace has no row for, to create with.

import Kitsu from 'kitsu'

const base = process.env.WELLAPI_BASE_URL
const ids = JSON.parse(process.env.WELLAPI_IDS)
const headers = { Authorization: `Bearer ${process.env.WELLAPI_KEY}` }

// The defaults: only the server's URL and the key are given.
const defaults = new Kitsu({ baseURL: base, headers })
// The setting for writes: with the model named in kebab case (below), kitsu sends the
// plural-kebab type the platform names canonical.
const kebabTypes = new Kitsu({ baseURL: base, headers, camelCaseTypes: false })

const results = {}

async function step (name, action) {
  try {
    results[name] = { ok: true, value: await action() }
  } catch (error) {
    const status = error.response?.status ?? null
    const codes = (error.errors ?? []).map(e => e.code ?? e.title ?? String(e.status))
    results[name] = { ok: false, status, codes, message: String(error.message ?? error) }
  }
}

// What a resource read through kitsu holds: attributes flattened, relationships as
// {data, links}, and an included record's attributes inside its relationship's data.
function summary (resource) {
  return {
    id: resource.id,
    type: resource.type,
    is_selected: resource.is_selected,
    is_matched: resource.is_matched,
    provider: resource.provider?.data ?? null,
    provider_links: resource.provider?.links ?? null,
    self: resource.links?.self ?? null
  }
}

// --- Reads (defaults) ---------------------------------------------------------------------

await step('read', async () => {
  const { data, status } = await defaults.get('workspaceProviders', {
    params: { page: { size: 50 } }
  })
  return { status, rows: data.map(summary) }
})

await step('retrieve', async () => {
  const { data, status } = await defaults.get(`workspaceProviders/${ids.rows.defaults.update}`)
  return { status, row: summary(data) }
})

await step('include', async () => {
  const { data } = await defaults.get(`workspaceProviders/${ids.rows.defaults.update}`, {
    params: { include: 'provider' }
  })
  return summary(data)
})

await step('sparse_fieldsets', async () => {
  const { data } = await defaults.get('workspaceProviders', {
    params: {
      include: 'provider',
      fields: { workspace_provider: 'is_selected,provider', provider: 'name,slug' },
      page: { size: 1 }
    }
  })
  const [row] = data
  return { keys: Object.keys(row).sort(), provider: row.provider.data }
})

await step('page_to_the_end', async () => {
  const seen = []
  let answer = await defaults.get('workspaceProviders', { params: { page: { size: 5 } } })
  let pages = 1
  for (;;) {
    seen.push(...answer.data.map(row => row.id))
    if (!answer.links?.next) break
    // kitsu follows a link with request(): the link as it is, no parameter added.
    answer = await defaults.request({ url: answer.links.next })
    pages += 1
  }
  return { pages, ids: seen }
})

await step('related_and_relationship_links', async () => {
  const { data } = await defaults.get(`workspaceProviders/${ids.rows.defaults.update}`)
  const related = await defaults.request({ url: data.provider.links.related })
  const linkage = await defaults.request({ url: data.provider.links.self })
  return {
    related: { id: related.data.id, type: related.data.type, name: related.data.name },
    relationship: linkage.data,
    relationship_links: linkage.links
  }
})

// --- Writes: with the defaults, then with camelCaseTypes: false ---------------------------

// The legacy type, which post() and patch() cannot send to this API's paths (they derive both
// from one model name), through request(): the server still takes it.
const legacy = new Kitsu({ baseURL: base, headers, camelCaseTypes: false, pluralize: false })
const legacyWrites = {
  post: (model, body) =>
    legacy.request({ method: 'POST', url: 'workspace-providers', type: 'workspace_provider', body }),
  patch: (model, body) =>
    legacy.request({
      method: 'PATCH',
      url: `workspace-providers/${body.id}`,
      type: 'workspace_provider',
      body
    }),
  get: (model, config) => legacy.get(model, config),
  delete: (model, id) => legacy.delete('workspace-providers', id)
}

for (const [client, api] of [
  ['defaults', defaults],
  ['kebab_types', kebabTypes],
  ['legacy_request', legacyWrites]
]) {
  const rows = ids.rows[client]
  // kitsu writes the model's name, pluralised, as the type (camel-cased unless
  // camelCaseTypes: false): the platform's kebab-case name makes the canonical type.
  const model = client === 'kebab_types' ? 'workspace-provider' : 'workspaceProvider'

  await step(`${client}:create`, async () => {
    const { data, status } = await api.post(model, {
      is_selected: false,
      is_matched: true,
      workspace: { data: { type: 'workspace', id: ids.workspace } },
      provider: { data: { type: 'provider', id: ids.providers[client] } }
    })
    return { status, row: summary(data) }
  })

  await step(`${client}:update`, async () => {
    const { data, status } = await api.patch(model, {
      id: rows.update,
      is_selected: false
    })
    return { status, row: summary(data) }
  })

  // A fetched resource sent back as kitsu holds it: its links, and relationships as fetched.
  await step(`${client}:round_trip`, async () => {
    const { data: fetched } = await api.get(`workspaceProviders/${rows.round_trip}`)
    const { data, status } = await api.patch(model, fetched)
    return { status, row: summary(data) }
  })

  // The same after an include: the included provider's attributes sit inside the linkage.
  await step(`${client}:round_trip_with_include`, async () => {
    const { data: fetched } = await api.get(`workspaceProviders/${rows.round_trip_with_include}`, {
      params: { include: 'provider' }
    })
    const { data, status } = await api.patch(model, fetched)
    return { status, row: summary(data) }
  })

  // kitsu sends a body with its DELETE: {"data": {"type": ..., "id": ...}}.
  await step(`${client}:delete`, async () => {
    const { status } = await api.delete('workspaceProvider', rows.delete)
    let after
    try {
      after = (await api.get(`workspaceProviders/${rows.delete}`)).status
    } catch (error) {
      after = error.response?.status ?? null
    }
    return { status, status_after: after }
  })
}

process.stdout.write(JSON.stringify(results) + '\n')
