import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEvent } from './cloudevents-display.ts';
import { decodeHttpEvent } from '../protocol/index.ts';

test('an event prints in event_display\'s layout: attributes, sorted extensions, pretty JSON data', () => {
  const text = formatEvent({
    specversion: '0.3',
    type: 'io.seldon.eventing.response',
    source: 'io.seldon.eventing.seldondeployment',
    id: 'c3529d51-184e-4b53-8456-487825f9e201',
    time: '2020-03-17T22:22:51.189357683Z',
    datacontenttype: 'application/json',
    extensions: {
      traceparent: '00-b60b4c94808cfd131e4a8019212efd87-4f0c98abfb1a1f01-00',
      knativearrivaltime: '2020-03-17T22:22:51.194925383Z',
    },
    data: Buffer.from('{"data":{"names":["t:0"],"ndarray":[[0.5]]},"meta":{}}'),
  });
  assert.equal(
    text,
    [
      '\u2601\ufe0f  cloudevents.Event',
      'Validation: valid',
      'Context Attributes,',
      '  specversion: 0.3',
      '  type: io.seldon.eventing.response',
      '  source: io.seldon.eventing.seldondeployment',
      '  id: c3529d51-184e-4b53-8456-487825f9e201',
      '  time: 2020-03-17T22:22:51.189357683Z',
      '  datacontenttype: application/json',
      'Extensions,',
      '  knativearrivaltime: 2020-03-17T22:22:51.194925383Z',
      '  traceparent: 00-b60b4c94808cfd131e4a8019212efd87-4f0c98abfb1a1f01-00',
      'Data,',
      '  {',
      '    "data": {',
      '      "names": [',
      '        "t:0"',
      '      ],',
      '      "ndarray": [',
      '        [',
      '          0.5',
      '        ]',
      '      ]',
      '    },',
      '    "meta": {}',
      '  }',
      '',
    ].join('\n'),
  );
});

test('an event without extensions or data prints neither section', () => {
  const text = formatEvent({ specversion: '1.0', type: 't', source: 's', id: '1', extensions: {} });
  assert.ok(!text.includes('Extensions,'));
  assert.ok(!text.includes('Data,'));
  assert.ok(text.endsWith('  id: 1\n'));
});

test('text data prints as it is', () => {
  const text = formatEvent({ specversion: '1.0', type: 't', source: 's', id: '1', datacontenttype: 'text/plain', extensions: {}, data: Buffer.from('hello\nworld') });
  assert.ok(text.endsWith('Data,\n  hello\n  world\n'));
});

test('nothing an event carries can drive the terminal: escape sequences and control characters are stripped', () => {
  const hostile = 'a\u001b[31mred\u001b[0m\u001b]0;title\u0007b\rc\u009b2Jd\u009d8;;http://x\u009ce\u007ff\u0000g';
  const text = formatEvent({
    specversion: '1.0',
    type: hostile,
    source: 'line\nValidation: valid',
    id: '1',
    datacontenttype: 'text/plain',
    extensions: { note: hostile },
    data: Buffer.from(`${hostile}\nsecond\tline`),
  });
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, JSON.stringify(text));
  assert.match(text, /\n {2}type: aredbcdefg\n/);
  assert.match(text, /\n {2}source: line Validation: valid\n/, 'a newline in an attribute cannot forge a line');
  assert.match(text, /\n {2}note: aredbcdefg\n/);
  assert.ok(text.endsWith('Data,\n  aredbcdefg\n  second\tline\n'), JSON.stringify(text));
});

test('JSON data with DEL and C1 characters, which JSON.stringify leaves as they are, is stripped too', () => {
  const text = formatEvent({ specversion: '1.0', type: 't', source: 's', id: '1', datacontenttype: 'application/json', extensions: {}, data: Buffer.from('{"x":"a\u009b31mb\u007f"}') });
  assert.ok(text.endsWith('Data,\n  {\n    "x": "ab"\n  }\n'), JSON.stringify(text));
});

test('JSON data is laid out as sent: numbers, escapes and empty containers keep their text', () => {
  const data = '{"p":[1.0,0.0006985194531162841,12345678901234567890,1e400,-0],"s":"caf\\u00e9 \\"q\\"","e":{},"a":[],"n":null,"t":true}';
  const text = formatEvent({ specversion: '1.0', type: 't', source: 's', id: '1', datacontenttype: 'application/json', extensions: {}, data: Buffer.from(`  ${data}\n`) });
  const expected = [
    'Data,',
    '  {',
    '    "p": [',
    '      1.0,',
    '      0.0006985194531162841,',
    '      12345678901234567890,',
    '      1e400,',
    '      -0',
    '    ],',
    '    "s": "caf\\u00e9 \\"q\\"",',
    '    "e": {},',
    '    "a": [],',
    '    "n": null,',
    '    "t": true',
    '  }',
    '',
  ].join('\n');
  assert.ok(text.endsWith(expected), text);
});

test('a JSON scalar as data prints as it is', () => {
  assert.ok(formatEvent({ specversion: '1.0', type: 't', source: 's', id: '1', datacontenttype: 'application/json', extensions: {}, data: Buffer.from(' 42 ') }).endsWith('Data,\n  42\n'));
  assert.ok(formatEvent({ specversion: '1.0', type: 't', source: 's', id: '1', datacontenttype: 'application/json', extensions: {}, data: Buffer.from('"a,b: [c]"') }).endsWith('Data,\n  "a,b: [c]"\n'));
});

test('a structured event shows its data as sent: a 20-digit integer keeps its digits', () => {
  const event = decodeHttpEvent({ 'content-type': 'application/cloudevents+json' }, Buffer.from('{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"n":12345678901234567890,"x":1.50}}'));
  const printed = formatEvent(event);
  assert.match(printed, /"n": 12345678901234567890/);
  assert.match(printed, /"x": 1\.50/);
});
