"""The Proxy-Wasm ABI 0.2.1 enumerations, with the spec's names and values."""

from __future__ import annotations

from enum import IntEnum


class LogLevel(IntEnum):
    """Severity of a proxy log message (``proxy_log_level_t``)."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    CRITICAL = 5


class Action(IntEnum):
    """What the host does after a stream callback: go on with the stream or hold it."""

    CONTINUE = 0
    PAUSE = 1


class Status(IntEnum):
    """Result of a host call (``proxy_status_t``); failures raise ``HostCallError``."""

    OK = 0
    NOT_FOUND = 1
    BAD_ARGUMENT = 2
    SERIALIZATION_FAILURE = 3
    PARSE_FAILURE = 4
    INVALID_MEMORY_ACCESS = 6
    EMPTY = 7
    CAS_MISMATCH = 8
    INTERNAL_FAILURE = 10
    UNIMPLEMENTED = 12


class MapType(IntEnum):
    """Which header map a map host call reads or writes (``proxy_map_type_t``)."""

    HTTP_REQUEST_HEADERS = 0
    HTTP_REQUEST_TRAILERS = 1
    HTTP_RESPONSE_HEADERS = 2
    HTTP_RESPONSE_TRAILERS = 3
    GRPC_CALL_INITIAL_METADATA = 4
    GRPC_CALL_TRAILING_METADATA = 5
    HTTP_CALL_RESPONSE_HEADERS = 6
    HTTP_CALL_RESPONSE_TRAILERS = 7


class BufferType(IntEnum):
    """Which byte buffer a buffer host call reads or writes (``proxy_buffer_type_t``)."""

    HTTP_REQUEST_BODY = 0
    HTTP_RESPONSE_BODY = 1
    DOWNSTREAM_DATA = 2
    UPSTREAM_DATA = 3
    HTTP_CALL_RESPONSE_BODY = 4
    GRPC_CALL_MESSAGE = 5
    VM_CONFIGURATION = 6
    PLUGIN_CONFIGURATION = 7
    FOREIGN_FUNCTION_ARGUMENTS = 8


class StreamType(IntEnum):
    """Which stream ``continue_stream``/``close_stream`` act on (``proxy_stream_type_t``)."""

    HTTP_REQUEST = 0
    HTTP_RESPONSE = 1
    DOWNSTREAM = 2
    UPSTREAM = 3


class PeerType(IntEnum):
    """Which side closed a TCP connection (``proxy_peer_type_t``)."""

    UNKNOWN = 0
    LOCAL = 1
    REMOTE = 2


class MetricType(IntEnum):
    """Kind of a metric defined with ``define_metric`` (``proxy_metric_type_t``)."""

    COUNTER = 0
    GAUGE = 1
    HISTOGRAM = 2


class GrpcStatusCode(IntEnum):
    """The gRPC status codes, as sent in ``grpc-status``."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class ContextType(IntEnum):
    """What a root context creates for new streams: HTTP contexts or TCP stream contexts."""

    HTTP_CONTEXT = 0
    STREAM_CONTEXT = 1
