"""Which context started each HTTP call, gRPC call and gRPC stream, by host token.

The host reports callout results to the plugin (root) context; the dispatcher uses these maps
to hand each result to the context whose ``dispatch_*``/``open_grpc_stream`` made the call.
"""

http_calls: dict[int, int] = {}
grpc_calls: dict[int, int] = {}
grpc_streams: dict[int, int] = {}


def clear() -> None:
    """Forget every pending callout (used when the dispatcher is reset)."""
    http_calls.clear()
    grpc_calls.clear()
    grpc_streams.clear()
