"""`codeinstruct serve SERVICE`: host one service (or all four) with the shared bootstrap.

Each service package provides `codeinstruct.<service>.service.make_spec(file_data) -> ServiceSpec`,
where `file_data` is the parsed YAML config (the service builds its own typed config from it).
"""

from __future__ import annotations

import argparse
import importlib
import logging

from codeinstruct.core import config as config_mod
from codeinstruct.core.errors import NotImplementedYet
from codeinstruct.server.bootstrap import DEFAULT_PORTS, GrpcServer, ServiceSpec

logger = logging.getLogger(__name__)


def load_spec(service: str, file_data: dict) -> ServiceSpec:
    try:
        module = importlib.import_module(f"codeinstruct.{service}.service")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"codeinstruct.{service}"):
            raise NotImplementedYet(f"the {service} service has not landed") from None
        raise
    return module.make_spec(file_data)


def serve(args: argparse.Namespace) -> int:
    file_data = config_mod.load_file(args.config)
    server_config = config_mod.build(config_mod.ServerConfig, "server", file_data=file_data,
                                     overrides={"port": args.port, "host": args.host,
                                                "metrics_port": args.metrics_port})
    names = [n for n in DEFAULT_PORTS] if args.service == "all" else [args.service]
    specs = [load_spec(name, file_data) for name in names]
    server = GrpcServer(server_config, specs)
    server.start(default_port=DEFAULT_PORTS[names[0]])
    server.install_signal_handlers()
    server.wait()
    return 0
