// Quick start: create and list a tracker with the official Huawei Cloud SDK core, against a
// running OpenCTS. Reads the credentials `npm start` wrote on first start.
//
//   node examples/quickstart.mjs [path/to/credentials.json] [endpoint]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { BasicCredentials } = require('@huaweicloud/huaweicloud-sdk-core');
const { ClientBuilder } = require('@huaweicloud/huaweicloud-sdk-core/ClientBuilder');

const file = process.argv[2] ?? 'data/credentials.json';
const creds = JSON.parse(readFileSync(file, 'utf8'));
const endpoint = process.argv[3] ?? creds.endpoint ?? 'http://127.0.0.1:8080';

// Always set the project id and never a region: with a region the SDK asks a cloud IAM first.
const credentials = new BasicCredentials()
  .withAk(creds.access_key_id)
  .withSk(creds.secret_access_key)
  .withProjectId(creds.project_id);
const client = new ClientBuilder((hcClient) => hcClient).withCredential(credentials).withEndpoint(endpoint).build();

// The generated CTS client is not on npm: these two entries are what it would send.
function call(method, url, { query, body } = {}) {
  return client.sendRequest({
    method,
    url,
    contentType: body ? 'application/json;charset=UTF-8' : 'application/json',
    headers: {},
    pathParams: {},
    queryParams: query ?? {},
    data: body,
  });
}

const created = await call('POST', '/v3/{project_id}/tracker', {
  body: { tracker_type: 'system', tracker_name: 'system', is_lts_enabled: true },
}).catch((err) => {
  // A second run finds the tracker already there (CTS.0201): that is fine for a quick start.
  if (err.errorCode === 'CTS.0201') return { tracker_name: 'system', note: 'already existed' };
  throw err;
});
console.log('created:', JSON.stringify(created));

const listed = await call('GET', '/v3/{project_id}/trackers', { query: { tracker_name: 'system' } });
console.log('trackers:', JSON.stringify(listed.trackers.map((t) => ({ name: t.tracker_name, status: t.status }))));
