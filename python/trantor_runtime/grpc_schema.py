"""
Our gRPC schemas as Python message classes, without protoc: ``grpc_descriptors.bin`` (written by
``scripts/proto-descriptors.ts`` from the same .proto files the Node side loads) is a
FileDescriptorSet, loaded into a private descriptor pool — private so that a model importing
Seldon's own ``prediction_pb2`` (same message names, other file names) cannot clash with it.

Seldon messages cross to and from the dicts the REST path handles with ``json_format``, as
Seldon's wrapper converts them: the proto3 JSON form, so ``binData`` is base64 text, ``tftensor``
is a TensorProto's JSON (``tensorShape``, ``floatVal``, int64 values as exact decimal strings).
"""

import os

from google.protobuf import descriptor_pb2, descriptor_pool, json_format

try:  # protobuf 4.22 and newer (5.x has no MessageFactory.GetPrototype)
    from google.protobuf.message_factory import GetMessageClass as _get_message_class
except ImportError:  # older protobuf, such as Debian's 4.21
    _get_message_class = None

DESCRIPTORS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc_descriptors.bin")


class Schema:
    """The descriptor set, its pool, and message classes by full name."""

    def __init__(self, data):
        self.files = descriptor_pb2.FileDescriptorSet.FromString(data).file
        self.pool = descriptor_pool.DescriptorPool()
        for file in self.files:
            self.pool.AddSerializedFile(file.SerializeToString())
        self._classes = {}
        self._factory = None

    def message(self, full_name):
        cls = self._classes.get(full_name)
        if cls is None:
            descriptor = self.pool.FindMessageTypeByName(full_name)
            if _get_message_class is not None:
                cls = _get_message_class(descriptor)
            else:
                if self._factory is None:
                    from google.protobuf import message_factory

                    self._factory = message_factory.MessageFactory(self.pool)
                cls = self._factory.GetPrototype(descriptor)
            self._classes[full_name] = cls
        return cls

    def service(self, full_name):
        return self.pool.FindServiceByName(full_name)


_schema = []


def schema():
    """The schema, loaded on first use and kept for the life of the process."""
    if not _schema:
        with open(DESCRIPTORS_PATH, "rb") as source:
            _schema.append(Schema(source.read()))
    return _schema[0]


def to_dict(message):
    """A message as the JSON dict REST carries (camelCase names, int64 as strings, bytes as base64)."""
    return json_format.MessageToDict(message)


def from_dict(value, cls):
    """A message of ``cls`` from a JSON dict; json_format.ParseError names the field that does not fit."""
    return json_format.ParseDict(value, cls())
