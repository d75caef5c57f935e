"""
gRPC server reflection (``grpc.reflection.v1alpha.ServerReflection``, and ``v1``), answered from the
FileDescriptorSet the server's messages come from, so grpcurl and grpc_cli can list the services
and call any method without .proto files. ``list_services``, ``file_by_filename`` and
``file_containing_symbol`` (a file comes with every file it imports, dependencies first);
extensions: our schemas have none, so ``all_extension_numbers_of_type`` answers an empty list and
``file_containing_extension`` NOT_FOUND.
"""

import grpc

SERVICE = "grpc.reflection.v1alpha.ServerReflection"
SERVICE_V1 = "grpc.reflection.v1.ServerReflection"  # the same messages; newer grpcurl asks it first
_NOT_FOUND = 5  # google.rpc.Code.NOT_FOUND
_INVALID_ARGUMENT = 3


class Index:
    """Files by name (serialized), and the file defining each symbol."""

    def __init__(self, files):
        self.serialized = {}
        self.dependencies = {}
        self.symbols = {}
        self.messages = set()
        for file in files:
            self.serialized[file.name] = file.SerializeToString()
            self.dependencies[file.name] = list(file.dependency)
            prefix = file.package + "." if file.package else ""
            if file.package:
                self.symbols.setdefault(file.package, file.name)
            for message in file.message_type:
                self._message(prefix, message, file.name)
            for enum in file.enum_type:
                self._enum(prefix, enum, file.name)
            for service in file.service:
                name = prefix + service.name
                self.symbols[name] = file.name
                for method in service.method:
                    self.symbols[name + "." + method.name] = file.name

    def _message(self, prefix, message, file_name):
        name = prefix + message.name
        self.symbols[name] = file_name
        self.messages.add(name)
        for field in message.field:
            self.symbols[name + "." + field.name] = file_name
        for nested in message.nested_type:
            self._message(name + ".", nested, file_name)
        for enum in message.enum_type:
            self._enum(name + ".", enum, file_name)

    def _enum(self, prefix, enum, file_name):
        name = prefix + enum.name
        self.symbols[name] = file_name
        for value in enum.value:
            self.symbols[prefix + value.name] = file_name

    def with_dependencies(self, name):
        """The serialized file and, after it, every file it imports (each once)."""
        seen = []

        def visit(file_name):
            if file_name in seen:
                return
            seen.append(file_name)
            for dependency in self.dependencies.get(file_name, ()):
                visit(dependency)

        visit(name)
        return [self.serialized[f] for f in seen if f in self.serialized]


def handlers(schema, services, stream):
    """The ServerReflection services (v1alpha, v1) for ``schema`` serving ``services``;
    ``stream(context)``, an async context manager, holds a stream place while the stream is open."""
    index = Index(schema.files)
    request_cls = schema.message("grpc.reflection.v1alpha.ServerReflectionRequest")
    response_cls = schema.message("grpc.reflection.v1alpha.ServerReflectionResponse")
    listed = sorted(services)

    def answer(request):
        response = response_cls(valid_host=request.host)
        response.original_request.CopyFrom(request)
        kind = request.WhichOneof("message_request")

        def error(code, text):
            response.error_response.error_code = code
            response.error_response.error_message = text
            return response

        def files(names):
            response.file_descriptor_response.file_descriptor_proto.extend(names)
            return response

        if kind == "list_services":
            for name in listed:
                response.list_services_response.service.add(name=name)
            return response
        if kind == "file_by_filename":
            name = request.file_by_filename
            if name not in index.serialized:
                return error(_NOT_FOUND, "no file " + repr(name) + "; this server has " + ", ".join(sorted(index.serialized)))
            return files(index.with_dependencies(name))
        if kind == "file_containing_symbol":
            symbol = request.file_containing_symbol.lstrip(".")
            file_name = index.symbols.get(symbol)
            if file_name is None:
                return error(_NOT_FOUND, "no symbol " + repr(symbol) + " on this server")
            return files(index.with_dependencies(file_name))
        if kind == "all_extension_numbers_of_type":
            name = request.all_extension_numbers_of_type.lstrip(".")
            if name not in index.messages:
                return error(_NOT_FOUND, "no message type " + repr(name) + " on this server")
            response.all_extension_numbers_response.base_type_name = name
            return response
        if kind == "file_containing_extension":
            extension = request.file_containing_extension
            return error(
                _NOT_FOUND,
                "no extension " + str(extension.extension_number) + " of " + repr(extension.containing_type) + " (this server's schemas have none)",
            )
        return error(_INVALID_ARGUMENT, "the request asks for nothing (message_request is not set)")

    async def info(requests, context):
        async with stream(context):
            async for request in requests:
                yield answer(request)

    # v1's messages are v1alpha's on the wire, so one implementation answers both.
    return [
        grpc.method_handlers_generic_handler(name, {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                info, request_deserializer=request_cls.FromString, response_serializer=response_cls.SerializeToString
            ),
        })
        for name in (SERVICE, SERVICE_V1)
    ]
