"""One server bootstrap for every service.

It adds `grpc.health.v1.Health` with a status per service, server reflection, the interceptors
(auth, deadlines, error mapping, metrics), bounded message sizes, optional TLS and a graceful stop:
on SIGTERM every health status turns NOT_SERVING first, then (after `drain_delay_s`) the server
stops accepting RPCs and gives in-flight ones `grace_period_s` to finish.

Example (what `codeinstruct serve sandbox` does):
    server = GrpcServer(ServerConfig(port=50052), [sandbox_spec(...)])
    server.start(); server.install_signal_handlers(); server.wait()
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

from codeinstruct.core.config import ServerConfig
from codeinstruct.core.errors import Unavailable
from codeinstruct.server.interceptors import ServerInterceptor

logger = logging.getLogger(__name__)

# Default ports, one per service, so all services can share a host in development.
DEFAULT_PORTS = {"generation": 50051, "sandbox": 50052, "scoring": 50053, "training": 50054}


@dataclass
class ServiceSpec:
    """What a service contributes to a server.

    `full_name` is the proto service name (health status key and reflection entry); `register`
    adds the servicer; `close` releases resources (engines, worker pools) after the server stopped;
    `watch_health` lets a service report NOT_SERVING while it cannot serve.
    """

    full_name: str
    register: Callable[[grpc.Server], None]
    close: Callable[[], None] | None = None
    extra: dict[str, object] = field(default_factory=dict)
    # Given a callback, the service calls it at once with whether it can serve, then on each change;
    # the server turns that into the service's health status.
    watch_health: Callable[[Callable[[bool], None]], None] | None = None


def channel_options(config: ServerConfig) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.max_receive_message_length", config.max_message_bytes),
    ]


# grpc.reflection.v1 is the stable name of the reflection service; grpcio-reflection 1.81 serves only
# v1alpha. The two are the same protocol (same messages, same field numbers), so the v1alpha
# servicer answers under the v1 name as well: grpcurl and other clients that try v1 first work.
REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"


def _enable_reflection(service_names: list[str], server: grpc.Server) -> None:
    names = [*service_names, health.SERVICE_NAME, REFLECTION_V1, reflection.SERVICE_NAME]
    servicer = reflection.ReflectionServicer(names)
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString)
    for name in (REFLECTION_V1, reflection.SERVICE_NAME):
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler}),))


class GrpcServer:
    """A started-on-demand gRPC server hosting one or more services."""

    def __init__(self, config: ServerConfig, specs: list[ServiceSpec]):
        if not specs:
            raise ValueError("a server needs at least one service")
        self.config = config
        self.specs = specs
        self.port = 0
        self._stopped = threading.Event()
        self._stopping = threading.Lock()
        self._health = health.HealthServicer(experimental_non_blocking=True,
                                             experimental_thread_pool=futures.ThreadPoolExecutor(max_workers=2))
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="rpc"),
            interceptors=[ServerInterceptor(config.auth_token)],
            options=[*channel_options(config), ("grpc.so_reuseport", 0)],
            maximum_concurrent_rpcs=config.max_workers * 8,
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        for spec in specs:
            spec.register(self._server)
        if config.reflection:
            _enable_reflection([spec.full_name for spec in specs], self._server)

    @property
    def address(self) -> str:
        host = "127.0.0.1" if self.config.host in {"0.0.0.0", "::", "[::]"} else self.config.host
        return f"{host}:{self.port}"

    def start(self, default_port: int = 0) -> int:
        port = self.config.port or default_port
        bind = f"{self.config.host}:{port}"
        if self.config.tls_cert and self.config.tls_key:
            credentials = grpc.ssl_server_credentials(
                [(self.config.tls_key.read_bytes(), self.config.tls_cert.read_bytes())])
            self.port = self._server.add_secure_port(bind, credentials)
        else:
            self.port = self._server.add_insecure_port(bind)
        if self.port == 0:
            raise Unavailable(f"could not bind {bind}: the port is taken or the address is wrong")
        self._server.start()
        if self.config.metrics_port:
            from prometheus_client import start_http_server

            start_http_server(self.config.metrics_port)
            logger.info("Prometheus metrics on :%d/metrics", self.config.metrics_port)
        for spec in self.specs:
            self.set_serving(spec.full_name, True)
            if spec.watch_health is not None:
                spec.watch_health(functools.partial(self.set_serving, spec.full_name))
        self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        logger.info("serving %s on %s%s", ", ".join(s.full_name for s in self.specs), bind,
                    " (TLS)" if self.config.tls_cert else "")
        return self.port

    def set_serving(self, full_name: str, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        self._health.set(full_name, status)

    def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING everywhere, wait `drain_delay_s`, stop with a grace period, release services."""
        if not self._stopping.acquire(blocking=False):
            self._stopped.wait()
            return
        try:
            grace = self.config.grace_period_s if grace is None else grace
            logger.info("shutting down: health NOT_SERVING, drain %.1fs, grace %.1fs",
                        self.config.drain_delay_s, grace)
            self._health.enter_graceful_shutdown()
            if self.config.drain_delay_s:
                time.sleep(self.config.drain_delay_s)
            self._server.stop(grace).wait()
            for spec in self.specs:
                if spec.close is not None:
                    try:
                        spec.close()
                    except Exception:
                        logger.exception("closing %s failed", spec.full_name)
        finally:
            self._stopped.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT start a graceful stop on a thread (signal handlers must return fast)."""
        def handle(signum: int, frame: FrameType | None) -> None:
            logger.info("received %s", signal.Signals(signum).name)
            threading.Thread(target=self.stop, name="graceful-stop", daemon=True).start()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped; True when it did within `timeout`."""
        return self._stopped.wait(timeout)
