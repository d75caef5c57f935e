import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startEventDisplay } from './event-display.ts';

async function withDisplay(fn: (url: string, printed: string[], warned: string[]) => Promise<void>): Promise<void> {
  const printed: string[] = [];
  const warned: string[] = [];
  const display = await startEventDisplay({ print: (t) => printed.push(t), warn: (t) => warned.push(t) });
  try {
    await fn(display.url, printed, warned);
  } finally {
    await display.close();
  }
}

test('a binary-mode event with percent-encoded headers is printed decoded and answered 202 with no body', async () => {
  await withDisplay(async (url, printed) => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await request(url, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'e-1',
        'ce-type': 'seldon.iris-deployment.default.response',
        'ce-source': 'caf%C3%A9%20%22source%22',
        'ce-knativearrivaltime': '2020-03-17T22:22:51.194925383Z',
        'ce-comment': '100%25%20sure',
        'content-type': 'application/json',
      },
      body: '{"data":{"ndarray":[[0.1,0.9]]}}',
    });
    assert.equal(res.statusCode, 202);
    assert.equal(await res.body.text(), '');
    assert.deepEqual(printed, [
      `☁️  cloudevents.Event
Validation: valid
Context Attributes,
  specversion: 1.0
  type: seldon.iris-deployment.default.response
  source: café "source"
  id: e-1
  datacontenttype: application/json
Extensions,
  comment: 100% sure
  knativearrivaltime: 2020-03-17T22:22:51.194925383Z
Data,
  {
    "data": {
      "ndarray": [
        [
          0.1,
          0.9
        ]
      ]
    }
  }
`,
    ]);
  });
});

test('a structured-mode event is printed too', async () => {
  await withDisplay(async (url, printed) => {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '0.3', id: '7', type: 't', source: 's', datacontenttype: 'text/plain', data: 'hi' }),
    });
    assert.equal(res.statusCode, 202);
    await res.body.dump();
    assert.equal(printed.length, 1);
    assert.match(printed[0]!, /specversion: 0\.3\n {2}type: t\n {2}source: s\n {2}id: 7\n {2}datacontenttype: text\/plain\nData,\n {2}hi\n$/);
  });
});

test('a request that is not a valid event gets 400 naming the attribute, and nothing is printed', async () => {
  await withDisplay(async (url, printed, warned) => {
    const res = await request(url, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': 's' }, body: '' });
    assert.equal(res.statusCode, 400);
    const body = (await res.body.json()) as { status: { info: string } };
    assert.match(body.status.info, /type/);
    assert.equal(printed.length, 0);
    assert.equal(warned.length, 1);
    const get = await request(url);
    assert.equal(get.statusCode, 405);
    await get.body.dump();
  });
});
