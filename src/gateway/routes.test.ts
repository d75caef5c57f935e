import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROUTES, documentedPaths, matchPath } from './routes.ts';

const context = { models: ['model-a'] };

test('every path of the table matches its own route, under a deployment in both namespace forms or at the root', () => {
  for (const route of ROUTES) {
    for (const { path } of route.paths) {
      const concrete = path.replace('{model}', 'model-a');
      const urls = route.scope === 'root' ? [concrete] : [`/seldon/ns/dep${concrete}`, `/seldon/dep${concrete}`];
      for (const url of urls) {
        const match = matchPath(url);
        assert.equal(match?.route, route, url);
        if (path.endsWith('{model}')) assert.equal(match.model, 'model-a', url);
      }
    }
  }
});

test('the OpenAPI paths are the table\'s documented paths, and each operation is a method the route accepts', () => {
  const paths = documentedPaths(context);
  assert.deepEqual(Object.keys(paths), ['/api/v1.0/predictions', '/api/v0.1/predictions', '/api/v1.0/feedback', '/api/v0.1/feedback', '/api/v1.0/metadata', '/api/v1.0/metadata/{model}', '/api/v1.0/health/status', '/api/v1.0/status/{model}',
    '/v2/health/live', '/v2/health/ready', '/v2', '/v2/models/{model}', '/v2/models/{model}/versions/{version}', '/v2/models/{model}/ready', '/v2/models/{model}/versions/{version}/ready', '/v2/models/{model}/infer', '/v2/models/{model}/versions/{version}/infer']);
  for (const [path, item] of Object.entries(paths)) {
    const match = matchPath(`/seldon/ns/dep${path.replace('{model}', 'model-a').replace('{version}', '1')}`);
    assert.ok(match !== undefined, path);
    for (const method of Object.keys(item)) assert.ok(match.route.methods.includes(method.toUpperCase()), `${method} ${path}`);
  }
});

test('405 answers name the methods of the route, the same for each of its paths', () => {
  assert.deepEqual(matchPath('/seldon/ns/dep/api/v0.1/predictions')?.route.methods, ['POST', 'GET']);
  assert.deepEqual(matchPath('/seldon/ns/dep/api/v1.0/feedback/')?.route.methods, ['POST']);
  assert.deepEqual(matchPath('/ready')?.route.methods, ['GET', 'HEAD']);
});

test('V2 model paths give the model and the version, percent-decoded; a missing segment matches nothing', () => {
  const infer = matchPath('/seldon/ns/dep/v2/models/my%20model/versions/7/infer');
  assert.deepEqual([infer?.route.kind, infer?.model, infer?.version, infer?.namespace, infer?.name], ['v2-infer', 'my model', '7', 'ns', 'dep']);
  const ready = matchPath('/seldon/dep/v2/models/m/ready/');
  assert.deepEqual([ready?.route.kind, ready?.model, ready?.version, ready?.namespace], ['v2-model-ready', 'm', undefined, 'default']);
  assert.equal(matchPath('/seldon/ns/dep/v2/models/m')?.route.kind, 'v2-model');
  assert.equal(matchPath('/seldon/ns/dep/v2')?.route.kind, 'v2-server');
  assert.equal(matchPath('/seldon/ns/dep/v2/models//infer'), undefined);
  assert.equal(matchPath('/seldon/ns/dep/v2/models/m/versions//infer'), undefined);
  assert.equal(matchPath('/seldon/ns/dep/v2/models/m/explain'), undefined);
});
