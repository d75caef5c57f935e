import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloudEvent } from '../protocol/index.ts';
import { formatEvent } from './event-format.ts';

test('an event prints as in the streaming example: attributes, sorted extensions, pretty JSON data', () => {
  const event: CloudEvent = {
    specversion: '0.3',
    type: 'io.seldon.eventing.response',
    source: 'io.seldon.eventing.seldondeployment',
    id: 'c3529d51-184e-4b53-8456-487825f9e201',
    time: '2020-03-17T22:22:51.189357683Z',
    datacontenttype: 'application/json',
    extensions: {
      traceparent: '00-b60b4c94808cfd131e4a8019212efd87-4f0c98abfb1a1f01-00',
      knativehistory: 'default-kne-trigger-kn-channel.default.svc.cluster.local',
      knativearrivaltime: '2020-03-17T22:22:51.194925383Z',
    },
    data: Buffer.from('{"data":{"names":["t:0","t:1","t:2"],"ndarray":[[0.0006985194531162841,0.003668039039435755,0.9956334415074478]]},"meta":{}}'),
  };
  assert.equal(
    formatEvent(event),
    `☁️  cloudevents.Event
Validation: valid
Context Attributes,
  specversion: 0.3
  type: io.seldon.eventing.response
  source: io.seldon.eventing.seldondeployment
  id: c3529d51-184e-4b53-8456-487825f9e201
  time: 2020-03-17T22:22:51.189357683Z
  datacontenttype: application/json
Extensions,
  knativearrivaltime: 2020-03-17T22:22:51.194925383Z
  knativehistory: default-kne-trigger-kn-channel.default.svc.cluster.local
  traceparent: 00-b60b4c94808cfd131e4a8019212efd87-4f0c98abfb1a1f01-00
Data,
  {
    "data": {
      "names": [
        "t:0",
        "t:1",
        "t:2"
      ],
      "ndarray": [
        [
          0.0006985194531162841,
          0.003668039039435755,
          0.9956334415074478
        ]
      ]
    },
    "meta": {}
  }
`,
  );
});

test('text data prints as it is, bytes that are not text as base64, and no data no section', () => {
  const base: CloudEvent = { specversion: '1.0', id: '1', source: 's', type: 't', extensions: {} };
  assert.match(formatEvent({ ...base, datacontenttype: 'text/plain', data: Buffer.from('hello\nworld') }), /Data,\n {2}hello\n {2}world\n$/);
  assert.match(formatEvent({ ...base, datacontenttype: 'application/octet-stream', data: Buffer.from([0xff, 0xfe]) }), /Data \(binary\),\n {2}\/\/4=\n$/);
  assert.equal(formatEvent(base), '☁️  cloudevents.Event\nValidation: valid\nContext Attributes,\n  specversion: 1.0\n  type: t\n  source: s\n  id: 1\n');
  assert.match(formatEvent({ ...base, data: { a: 1 } }), /Data,\n {2}\{\n {4}"a": 1\n {2}\}\n$/);
});
