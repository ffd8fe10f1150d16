"""The one place that reads environment variables.

Every variable the platform understands is listed here with its type and meaning, so operators
(the Helm chart, the Dockerfile, CI) have a single reference. Other modules call these functions
instead of touching `os.environ`.

Config overrides: `CODEINSTRUCT_<SECTION>__<FIELD>=value` (double underscore) overrides a field of
a config section, e.g. `CODEINSTRUCT_SERVER__PORT=50061` or `CODEINSTRUCT_SANDBOX__WORKERS=4`; a
nested section adds its name with a single underscore: `CODEINSTRUCT_GENERATION_ENGINE__MODEL=/m`,
`CODEINSTRUCT_GENERATION_EVOL__ROUNDS=2`, `CODEINSTRUCT_TRAINING_JOBS_KUBERNETES__NAMESPACE=ml`.
"""

from __future__ import annotations

import os
from pathlib import Path

PREFIX = "CODEINSTRUCT_"

# name -> help; the documented surface. Section overrides (PREFIX + SECTION__FIELD) are generic.
VARIABLES: dict[str, str] = {
    "CODEINSTRUCT_CONFIG": "path of a YAML config file read when --config is not given",
    "CODEINSTRUCT_CACHE_DIR": "where converted models, merged LoRA adapters and other derived artifacts are cached "
                              "(default ~/.cache/codeinstruct)",
    "CODEINSTRUCT_DATA_DIR": "where services keep state such as the training job store "
                             "(default ~/.local/share/codeinstruct)",
    "CODEINSTRUCT_AUTH_TOKEN": "bearer token servers require and clients send (unset: no auth)",
    "CODEINSTRUCT_TLS_CERT": "PEM certificate chain for the server (with CODEINSTRUCT_TLS_KEY) or "
                             "CA bundle for clients",
    "CODEINSTRUCT_TLS_KEY": "PEM private key for the server",
    "CODEINSTRUCT_LOG_LEVEL": "logging level for entrypoints (default INFO)",
    "CODEINSTRUCT_LOG_JSON": "1 to log one JSON object per line (for log collectors)",
    "CODEINSTRUCT_SKIP_VLLM": "1: scripts/setup/30-vllm.sh does not build .venv-vllm (the requires_vllm tests "
                              "then skip); read by that script only",
}


def get(name: str, default: str | None = None) -> str | None:
    """Raw access for a documented variable (kept explicit so the list above stays complete)."""
    if name not in VARIABLES:
        raise KeyError(f"undocumented environment variable {name!r}: add it to codeinstruct.core.env")
    value = os.environ.get(name)
    return default if value in (None, "") else value


def config_path() -> Path | None:
    value = get("CODEINSTRUCT_CONFIG")
    return Path(value) if value else None


def cache_dir() -> Path:
    value = get("CODEINSTRUCT_CACHE_DIR")
    path = Path(value) if value else Path.home() / ".cache" / "codeinstruct"
    return path.expanduser()


def data_dir() -> Path:
    value = get("CODEINSTRUCT_DATA_DIR")
    path = Path(value) if value else Path.home() / ".local" / "share" / "codeinstruct"
    return path.expanduser()


def auth_token() -> str | None:
    return get("CODEINSTRUCT_AUTH_TOKEN")


def tls_files() -> tuple[Path | None, Path | None]:
    cert, key = get("CODEINSTRUCT_TLS_CERT"), get("CODEINSTRUCT_TLS_KEY")
    return (Path(cert) if cert else None, Path(key) if key else None)


def log_level() -> str:
    return (get("CODEINSTRUCT_LOG_LEVEL", "INFO") or "INFO").upper()


def log_json() -> bool:
    return get("CODEINSTRUCT_LOG_JSON", "0") in {"1", "true", "yes"}


def section_overrides(section: str) -> dict[str, str]:
    """`CODEINSTRUCT_<SECTION>__<FIELD>` values for one config section, keyed by lower-case field."""
    marker = f"{PREFIX}{section.upper()}__"
    return {key[len(marker):].lower(): value for key, value in os.environ.items() if key.startswith(marker)}


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of this process's environment for a trusted child process (training workers, tools).

    The sandbox never uses this: untrusted code gets a clean environment built from scratch.
    """
    env = dict(os.environ)
    env.update(extra or {})
    return env
