"""Encodes and decodes Seldon messages with seldon-core's own prediction_pb2 and utils, for
seldon-codec's cross-check. One JSON request per stdin line, one JSON answer per stdout line:
  {"op": "encode", "kind": K, "json": {...}} -> {"hex": serialized bytes} | {"error": text}
  {"op": "decode", "kind": K, "hex": "..."}  -> {"json": what seldon_core.utils gives back}
"""
import json
import sys

from google.protobuf import json_format
from seldon_core import utils
from seldon_core.proto import prediction_pb2

PARSE = {
    "SeldonMessage": utils.json_to_seldon_message,
    "SeldonMessageList": utils.json_to_seldon_messages,
    "Feedback": utils.json_to_feedback,
    "SeldonModelMetadata": lambda j: json_format.ParseDict(j, prediction_pb2.SeldonModelMetadata()),
}
WRITE = {
    "SeldonMessage": utils.seldon_message_to_json,
    "SeldonMessageList": utils.seldon_messages_to_json,
    "Feedback": utils.feedback_to_json,
    "SeldonModelMetadata": lambda m: json.loads(json_format.MessageToJson(m)),
}

for line in sys.stdin:
    request = json.loads(line)
    kind = request["kind"]
    try:
        if request["op"] == "encode":
            answer = {"hex": PARSE[kind](request["json"]).SerializeToString().hex()}
        else:
            message = getattr(prediction_pb2, kind)()
            message.ParseFromString(bytes.fromhex(request["hex"]))
            answer = {"json": WRITE[kind](message)}
    except Exception as err:  # the test reports what failed, whatever it was
        # SeldonMicroserviceException keeps its text in .message, not in str().
        answer = {"error": f"{type(err).__name__}: {getattr(err, 'message', None) or err}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
