/**
 * CloudEvents on a deployment's predictions path, as Seldon answers them: a request that is a
 * CloudEvent (binary mode with `Ce-*` headers, or structured `application/cloudevents+json`)
 * gets a CloudEvent back — `Ce-Id` the puid, the request's spec version, `Ce-Type:
 * seldon.<sdep>.<ns>.response`, `Ce-Source: seldon.<sdep>` — so a broker can route the reply.
 *
 * Two namings, because the two Seldon documents users copy from disagree: the eventing
 * integration doc's (above, per deployment), and the streaming notebook's, for a deployment
 * annotated `io.seldon.eventing: "enabled"`: one shared type and source for every deployment
 * (`io.seldon.eventing.response`, `io.seldon.eventing.seldondeployment`) and a `time` attribute,
 * as the notebook's event display shows them.
 */
import { mediaType, parseJson, stringifyJson, TrantorError } from '../protocol/index.ts';
import {
  decodeHttpEvent,
  encodeStructured,
  percentEncodeHeaderValue,
  STRUCTURED_CONTENT_TYPE,
  type CloudEvent,
  type CloudEventSpecVersion,
  type HttpHeaders,
  type JsonValue,
} from '../protocol/index.ts';
import type { RequestHeaders } from './request.ts';

/** The annotation that switches a deployment's reply events to the streaming notebook's naming. */
export const EVENTING_ANNOTATION = 'io.seldon.eventing';

/** `seldon`: type `seldon.<sdep>.<ns>.response`, source `seldon.<sdep>`; `io.seldon.eventing`: the notebook's. */
export type EventNaming = 'seldon' | 'io.seldon.eventing';

/** A deployment's naming, from its annotations (metadata's, else spec's, as Seldon reads annotations). */
export function eventNamingOf(deployment: { metadata: { annotations: Record<string, string> }; spec: { annotations: Record<string, string> } }): EventNaming {
  const value = deployment.metadata.annotations[EVENTING_ANNOTATION] ?? deployment.spec.annotations[EVENTING_ANNOTATION];
  return value === 'enabled' ? 'io.seldon.eventing' : 'seldon';
}

export interface EventRequest {
  /** The Seldon message the event carries. */
  message: unknown;
  specversion: CloudEventSpecVersion;
  structured: boolean;
}

/** True when the request is a CloudEvent, by its headers alone. */
export function isEventRequest(headers: RequestHeaders): boolean {
  return headers.ceSpecversion !== undefined || mediaType(headers.contentType) === STRUCTURED_CONTENT_TYPE;
}

/** Decodes and validates the event (400 BAD_EVENT saying what is wrong) and returns its payload. */
export function readEventRequest(headers: HttpHeaders, body: Buffer): EventRequest {
  const event = decodeHttpEvent(headers, body);
  const structured = mediaType(headers['content-type'] as string | undefined) === STRUCTURED_CONTENT_TYPE;
  return { message: payloadOf(event), specversion: event.specversion, structured };
}

function payloadOf(event: CloudEvent): unknown {
  const data = event.data;
  if (data === undefined) throw new TrantorError('BAD_PAYLOAD', 'the event has no data; send a Seldon message such as {"data":{"ndarray":[[1,2]]}}');
  if (data instanceof Uint8Array) {
    return parseJson(Buffer.from(data).toString('utf8'), 'event data');
  }
  // A structured event's data read again from its exact text, so numbers reach the model as sent.
  if (event.dataText !== undefined) return parseJson(event.dataText, 'event data');
  return data;
}

export interface EventReply {
  headers: string[];
  body: string;
}

/** Who the reply event is from: its deployment and the naming it uses. */
export interface EventOrigin {
  namespace: string;
  name: string;
  naming: EventNaming;
}

/** The reply to an event request: the same mode and spec version, the deployment's type and source. */
export function eventReply(request: EventRequest, puid: string, origin: EventOrigin, reply: unknown, now: () => Date = () => new Date()): EventReply {
  const annotated = origin.naming === 'io.seldon.eventing';
  const type = annotated ? 'io.seldon.eventing.response' : `seldon.${origin.name}.${origin.namespace}.response`;
  const source = annotated ? 'io.seldon.eventing.seldondeployment' : `seldon.${origin.name}`;
  const time = annotated ? now().toISOString() : undefined;
  if (request.structured) {
    const event: CloudEvent = {
      specversion: request.specversion,
      id: puid,
      type,
      source,
      ...(time === undefined ? {} : { time }),
      datacontenttype: 'application/json',
      extensions: {},
      data: reply as JsonValue,
    };
    const message = encodeStructured(event);
    return { headers: ['Content-Type', STRUCTURED_CONTENT_TYPE, 'Seldon-Puid', puid], body: message.body.toString('utf8') };
  }
  return {
    headers: [
      'Content-Type', 'application/json',
      'Seldon-Puid', puid,
      'Ce-Id', percentEncodeHeaderValue(puid),
      'Ce-Specversion', request.specversion,
      'Ce-Type', percentEncodeHeaderValue(type),
      'Ce-Source', percentEncodeHeaderValue(source),
      ...(time === undefined ? [] : ['Ce-Time', time]),
    ],
    body: stringifyJson(reply),
  };
}
