"""`codeinstruct serve SERVICE`: host one service (or all four) with the shared bootstrap.

The command builds the whole `Settings` first, then checks what would otherwise fail only after
the models have loaded (TLS files, the ports to bind, a model folder that does not exist), and only
then builds the services, cheapest first, so a bad config or a taken port fails in well under a
second instead of after minutes of loading a model (a crash loop on a GPU pod).

Example:
    codeinstruct serve generation --port 50051 --config config.yaml
"""

from __future__ import annotations

import argparse
import logging
import socket

from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.server.bootstrap import DEFAULT_PORTS, GrpcServer, ServiceSpec
from codeinstruct.settings import Settings

logger = logging.getLogger(__name__)

# Services whose start-up is cheap come first: their checks fail before an engine loads.
BUILD_ORDER = ("sandbox", "training", "scoring", "generation")


def load_spec(service: str, settings: Settings) -> ServiceSpec:
    """The ServiceSpec of `service` (generation, sandbox, scoring or training) configured by `settings`."""
    # Imported per service: each pulls in its own heavy dependencies (torch, the sandbox's checks).
    if service == "generation":
        from codeinstruct.generation.service import make_spec as generation_spec

        return generation_spec(settings.generation)
    if service == "sandbox":
        from codeinstruct.sandbox.service import make_spec as sandbox_spec

        return sandbox_spec(config=settings.sandbox)
    if service == "scoring":
        from codeinstruct.scoring.service import make_spec as scoring_spec

        return scoring_spec(settings.scoring, settings.sandbox)
    if service == "training":
        from codeinstruct.training.service import make_spec as training_spec

        return training_spec(settings)
    raise ValueError(f"unknown service {service!r}; known: {sorted(DEFAULT_PORTS)}")


def load_specs(service: str, settings: Settings) -> list[ServiceSpec]:
    """`load_spec`, plus the services one hosts beside itself (training: google.longrunning.Operations)."""
    if service == "training":
        from codeinstruct.training.service import make_specs as training_specs

        return training_specs(settings)
    return [load_spec(service, settings)]


def _check_bindable(host: str, port: int, field: str) -> None:
    """Unavailable when `host:port` cannot be bound now (taken, or an address this machine lacks)."""
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidInput(f"{field}: cannot bind {host}:{port}: {exc.strerror}", field=field) from None
    family, kind, proto, _, address = addresses[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise Unavailable(f"cannot bind {host}:{port} ({field}): {exc.strerror}; nothing was loaded") from None


def preflight(names: list[str], settings: Settings) -> None:
    """Fail now on what the server would otherwise find only after the services (and models) load."""
    server = settings.server
    for field, path in (("server.tls_cert", server.tls_cert), ("server.tls_key", server.tls_key)):
        if path is not None and not path.is_file():
            raise InvalidInput(f"{field}: {str(path)!r} does not exist or is not a file", field=field)
    _check_bindable(server.host, server.port or DEFAULT_PORTS[names[0]], "server.port")
    if server.metrics_port:
        _check_bindable("0.0.0.0", server.metrics_port, "server.metrics_port")
    engines = {"generation": [("generation.engine.model", settings.generation.engine)],
               "scoring": [("scoring.engine.model", settings.scoring.engine)]}
    for name in names:
        for field, engine in engines.get(name, []):
            if engine.model != "default" and engine.engine != "openai":
                from codeinstruct.engines.models import resolve_model

                resolve_model(engine.model, field=field)  # a missing folder fails here, not after loading


def serve(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config, overrides={"server": {
        "port": args.port, "host": args.host, "metrics_port": args.metrics_port}})
    names = list(DEFAULT_PORTS) if args.service == "all" else [args.service]
    preflight(names, settings)
    built = {name: load_specs(name, settings) for name in sorted(names, key=BUILD_ORDER.index)}
    server = GrpcServer(settings.server, [spec for name in names for spec in built[name]])
    server.start(default_port=DEFAULT_PORTS[names[0]])
    server.install_signal_handlers()
    server.wait()
    return 0
