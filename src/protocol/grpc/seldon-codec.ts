/**
 * Seldon messages between our JSON form (as `parseSeldonMessage` reads a REST body; numbers may be
 * JsonNumbers) and protobuf bytes, both ways, as Seldon's Python wrapper maps them
 * (`seldon_core.utils.json_to_seldon_message` / `seldon_message_to_json`): ndarray ⇄ ListValue,
 * tensor ⇄ Tensor, tftensor ⇄ TensorProto in its proto3 JSON form, binData ⇄ base64, strData,
 * jsonData ⇄ Value, meta ⇄ Meta. What cannot convert is a BAD_PAYLOAD naming the field.
 */
import type protobuf from 'protobufjs';
import { TrantorError } from '../errors.ts';
import type { Feedback, SeldonMessage } from '../seldon.ts';
import { messageFromJson, messageToJson, type WireMessage } from './proto-json.ts';
import { protoType } from './schema.ts';

/** The input of a combiner's Aggregate: the messages of its children. */
export interface SeldonMessageList {
  seldonMessages?: SeldonMessage[];
}

/** The messages this codec converts, by their protobuf name, with the JSON type of each. */
export interface SeldonProtoMessages {
  SeldonMessage: SeldonMessage;
  SeldonMessageList: SeldonMessageList;
  Feedback: Feedback;
  /** A model's metadata as `GET /api/v1.0/metadata` gives it. */
  SeldonModelMetadata: Record<string, unknown>;
  SeldonGraphMetadata: Record<string, unknown>;
  SeldonModelMetadataRequest: { name?: string };
}

export type SeldonProtoKind = keyof SeldonProtoMessages;

const types = new Map<SeldonProtoKind, protobuf.Type>();
/** The message type of `kind`, looked up once (a lookup walks the schema's namespaces). */
function typeOf(kind: SeldonProtoKind): protobuf.Type {
  let type = types.get(kind);
  if (type === undefined) types.set(kind, (type = protoType(`seldon.protos.${kind}`)));
  return type;
}

/** The protobuf bytes of a `kind` message given as JSON; BAD_PAYLOAD naming the field that cannot convert. */
export function toProto<K extends SeldonProtoKind>(kind: K, json: SeldonProtoMessages[K]): Uint8Array {
  const type = typeOf(kind);
  return type.encode(messageFromJson(type, json, '')).finish();
}

/**
 * The JSON of a `kind` message given as protobuf bytes, or as an object protobufjs decoded (field
 * names as in the .proto). Bytes that are not such a message are a BAD_PAYLOAD.
 */
export function fromProto<K extends SeldonProtoKind>(kind: K, input: Uint8Array | Record<string, unknown>): SeldonProtoMessages[K] {
  const type = typeOf(kind);
  let message: WireMessage;
  if (input instanceof Uint8Array) {
    try {
      message = type.decode(input);
    } catch (err) {
      throw new TrantorError('BAD_PAYLOAD', `not a protobuf ${kind}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  } else {
    message = input;
  }
  return messageToJson(type, message, '') as SeldonProtoMessages[K];
}
