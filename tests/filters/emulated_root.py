"""A root-only plugin: queues, foreign functions, gRPC streams and deferred on_done."""

from __future__ import annotations

import proxywasm
from proxywasm import RootContext, hostcalls


class Root(RootContext):
    """Registers a queue and opens a gRPC stream when configured."""

    queue = 0
    stream = 0

    def on_configure(self, plugin_configuration_size: int) -> bool:
        name = (self.get_property(["plugin_root_id"]) or b"").decode() or "default"
        self.queue = self.register_shared_queue(f"jobs-{name}")
        if name == "streamer":
            self.stream = self.open_grpc_stream("grpc", "pkg.Events", "Watch", [("a", b"1")])
            self.send_grpc_stream_message(self.stream, b"hello")
        proxywasm.log_info(f"configured {name}")
        return True

    def on_queue_ready(self, queue_id: int) -> None:
        item = self.dequeue_shared_queue(queue_id)
        proxywasm.log_info(f"dequeued {item!r}")
        if item == b"forward":
            other = self.resolve_shared_queue("", "jobs-default")
            if other is not None:
                self.enqueue_shared_queue(other, b"forwarded")

    def on_foreign_function(self, function_id: int, arguments_size: int) -> None:
        arguments = self.get_foreign_function_arguments(0, arguments_size)
        proxywasm.log_info(f"foreign {function_id}: {arguments!r}")

    def on_grpc_stream_initial_metadata(self, token_id: int, num_elements: int) -> None:
        value = self.get_grpc_stream_initial_metadata_value("server")
        proxywasm.log_info(f"metadata {num_elements}: {value!r}")

    def on_grpc_stream_message(self, token_id: int, message_size: int) -> None:
        message = self.get_grpc_stream_message(0, message_size)
        proxywasm.log_info(f"message {message!r}")
        if message == b"bye":
            self.close_grpc_stream(token_id)
        if message == b"cancel":
            self.cancel_grpc_stream(token_id)

    def on_grpc_stream_close(self, token_id: int, status_code: int) -> None:
        _code, message = self.get_grpc_status()
        proxywasm.log_info(f"closed {status_code} {message}")
        hostcalls.set_shared_data("closed", str(status_code).encode())


proxywasm.set_root_context(Root)
