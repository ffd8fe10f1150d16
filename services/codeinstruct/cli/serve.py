"""`codeinstruct serve SERVICE`: host one service (or all four) with the shared bootstrap.

The command builds the `Settings` once and hands each service's `make_spec` the sections it reads.
"""

from __future__ import annotations

import argparse
import logging

from codeinstruct.server.bootstrap import DEFAULT_PORTS, GrpcServer, ServiceSpec
from codeinstruct.settings import Settings

logger = logging.getLogger(__name__)


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


def serve(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config, overrides={"server": {
        "port": args.port, "host": args.host, "metrics_port": args.metrics_port}})
    names = list(DEFAULT_PORTS) if args.service == "all" else [args.service]
    specs = [spec for name in names for spec in load_specs(name, settings)]
    server = GrpcServer(settings.server, specs)
    server.start(default_port=DEFAULT_PORTS[names[0]])
    server.install_signal_handlers()
    server.wait()
    return 0
