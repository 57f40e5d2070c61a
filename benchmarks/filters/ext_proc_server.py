"""The benchmark's ext_proc server: Envoy's external processing over gRPC, in Python.

Does the same work as the Wasm variants (read ``:path`` from the request headers, set
``x-bench`` on the response) out of Envoy's process: ``python ext_proc_server.py PORT``
serves on 127.0.0.1:PORT until terminated.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent import futures

import grpc
from envoy.config.core.v3.base_pb2 import HeaderValue, HeaderValueOption
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_proc
from envoy.service.ext_proc.v3.external_processor_pb2_grpc import (
    add_ExternalProcessorServicer_to_server,
)


def _has_path(headers: ext_proc.HttpHeaders) -> bool:
    return any(header.key == ":path" and (header.raw_value or header.value)
               for header in headers.headers.headers)


class BenchProcessor:
    """One gRPC stream per HTTP request: answers its request and response headers messages."""

    def Process(  # noqa: N802 (the name gRPC's generated servicer gives the method)
        self, request_iterator: Iterator[ext_proc.ProcessingRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[ext_proc.ProcessingResponse]:
        """Remember whether the request had :path; report it in x-bench on the response."""
        saw_path = False
        for request in request_iterator:
            if request.HasField("request_headers"):
                saw_path = _has_path(request.request_headers)
                yield ext_proc.ProcessingResponse(request_headers=ext_proc.HeadersResponse())
            elif request.HasField("response_headers"):
                value = b"path" if saw_path else b"empty"
                mutation = ext_proc.HeaderMutation(set_headers=[HeaderValueOption(
                    header=HeaderValue(key="x-bench", raw_value=value))])
                yield ext_proc.ProcessingResponse(response_headers=ext_proc.HeadersResponse(
                    response=ext_proc.CommonResponse(header_mutation=mutation)))


def serve(port: int) -> None:
    """Serve on 127.0.0.1:port until the process is terminated."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    add_ExternalProcessorServicer_to_server(BenchProcessor(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
