/**
 * CloudEvents 0.3 and 1.0, one file per spec document: the attributes and their validation, the
 * JSON event format, and the HTTP protocol binding (binary and structured mode).
 */
export { CLOUDEVENT_SPEC_VERSIONS, attributeOf, isJsonContentType, isRfc3339, isValidAttributeName, validateEvent } from './attributes.ts';
export type { CloudEvent, CloudEventData, CloudEventExtensionValue, CloudEventSpecVersion, JsonValue } from './attributes.ts';
export { decodeStructured, eventFromJson, eventToJson, eventToJsonText, memberText } from './json-format.ts';
export type { EventFromJsonOptions, JsonFormatOptions } from './json-format.ts';
export {
  BATCH_CONTENT_TYPE,
  STRUCTURED_CONTENT_TYPE,
  dataBytes,
  decodeHttpEvent,
  encodeBinary,
  encodeStructured,
  httpEventMode,
  percentDecodeHeaderValue,
  percentEncodeHeaderValue,
  unquoteHeaderValue,
} from './http-binding.ts';
export type { HttpHeaders, HttpMessage } from './http-binding.ts';
