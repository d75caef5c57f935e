"""
Unary gRPC methods answered on the gRPC server's own event loop (grpc.aio), one call at a time,
as the REST server answers on its loop.

Why: with grpcio's thread-pool server every call crosses from grpcio's polling thread to a worker
thread, and the model's numpy calls, which release the GIL, hand it to the polling thread and wait
to get it back. The iris model answered about 2,500 calls a second that way and about 4,500 on the
event loop (docs/benchmarks.md).

The methods stay plain functions ``handle(request, context)``: ``unary`` runs one inline, with a
context whose ``abort`` raises (as the thread-pool server's does) and turns that into grpc.aio's
awaited abort. Streaming methods (health Watch, reflection) are left as they are: grpc.aio runs
plain functions in its migration thread pool.
"""

import grpc


class _Aborted(Exception):
    """A handler's ``context.abort``: the status to end the call with."""

    def __init__(self, code, details):
        super().__init__(details)
        self.code = code
        self.details = details


class _InlineContext:
    """A call's context for a plain function run on the loop: ``abort`` raises; the rest is the call's own."""

    def __init__(self, context):
        self._context = context

    def abort(self, code, details=""):
        raise _Aborted(code, details)

    def __getattr__(self, name):
        return getattr(self._context, name)


def unary(handle, request_deserializer, response_serializer):
    """A unary method handler that runs ``handle`` on the server's event loop."""

    async def run(request, context):
        try:
            return handle(request, _InlineContext(context))
        except _Aborted as exc:
            await context.abort(exc.code, exc.details)

    return grpc.unary_unary_rpc_method_handler(run, request_deserializer=request_deserializer, response_serializer=response_serializer)
