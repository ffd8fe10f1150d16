from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest

from codeinstruct.core.config import ServerConfig, build, check, load_file
from codeinstruct.core.errors import InvalidInput


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    workers: int = 2
    ratio: float = 0.5
    mode: Literal["fast", "safe"] = "safe"
    languages: tuple[str, ...] = ("python",)
    enabled: bool = True
    path: Path | None = None

    def __post_init__(self) -> None:
        check(self.workers >= 1, "demo.workers", f"must be >= 1, got {self.workers}")


def test_precedence_defaults_file_env_flags(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    assert build(DemoConfig, "demo", use_env=False).workers == 2
    data = {"demo": {"workers": 3, "mode": "fast"}}
    assert build(DemoConfig, "demo", data=data).workers == 3
    monkeypatch.setenv("CODEINSTRUCT_DEMO__WORKERS", "5")
    monkeypatch.setenv("CODEINSTRUCT_DEMO__LANGUAGES", "python,cpp")
    cfg = build(DemoConfig, "demo", data=data)
    assert (cfg.workers, cfg.mode, cfg.languages) == (5, "fast", ("python", "cpp"))
    cfg = build(DemoConfig, "demo", data=data, overrides={"workers": 7, "ratio": None})
    assert cfg.workers == 7 and cfg.ratio == 0.5


@pytest.mark.parametrize("bad, field", [
    ({"workers": "many"}, "demo.workers"),
    ({"mode": "turbo"}, "demo.mode"),
    ({"enabled": "perhaps"}, "demo.enabled"),
    ({"workerz": 1}, "demo.workerz"),
    ({"workers": 0}, "demo.workers"),
])
def test_bad_values_name_the_field(bad: dict, field: str, clean_env: None) -> None:
    with pytest.raises(InvalidInput) as info:
        build(DemoConfig, "demo", data={"demo": bad})
    assert info.value.field == field
    assert field.split(".")[1] in info.value.message


def test_load_file_rejects_unknown_sections_and_bad_yaml(tmp_path: Path) -> None:
    good = tmp_path / "ok.yaml"
    good.write_text("server:\n  port: 50099\n")
    assert build(ServerConfig, "server", data=load_file(good), use_env=False).port == 50099
    typo = tmp_path / "typo.yaml"
    typo.write_text("sever:\n  port: 1\n")
    with pytest.raises(InvalidInput, match="sever"):
        load_file(typo)
    broken = tmp_path / "broken.yaml"
    broken.write_text("server: [1,\n")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_file(broken)
    with pytest.raises(InvalidInput, match="does not exist"):
        load_file(tmp_path / "missing.yaml")


def test_server_config_validation(clean_env: None) -> None:
    with pytest.raises(InvalidInput, match=r"server\.port"):
        ServerConfig(port=70000)
    with pytest.raises(InvalidInput, match="tls_cert"):
        ServerConfig(tls_cert=Path("cert.pem"))
    assert ServerConfig(max_message_mb=2).max_message_bytes == 2 * 1024 * 1024


def test_auth_token_from_environment(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    monkeypatch.setenv("CODEINSTRUCT_AUTH_TOKEN", "s3cret")
    assert ServerConfig().auth_token == "s3cret"


def test_pipelines_require_tests_takes_a_list_a_mapping_or_a_bool(clean_env: None) -> None:
    from codeinstruct.core.config import updated
    from codeinstruct.core.pipelines_config import TEST_MAKING_METHODS, PipelinesConfig
    from codeinstruct.scoring.validation import TEST_MAKING_METHODS as VALIDATION_TEST_MAKING_METHODS

    def methods(value: object) -> tuple[str, ...]:
        config = build(PipelinesConfig, "pipelines", data={"pipelines": {"require_tests": value}}, use_env=False)
        return config.methods_requiring_tests

    assert TEST_MAKING_METHODS == VALIDATION_TEST_MAKING_METHODS == ("semi_instruct",)
    assert build(PipelinesConfig, "pipelines", use_env=False).methods_requiring_tests == ("semi_instruct",)
    assert methods(True) == methods("true") == ("semi_instruct",) and methods(False) == methods([]) == ()
    assert methods(["wavecoder", "semi_instruct"]) == ("semi_instruct", "wavecoder")  # METHODS order
    assert methods({"evol_instruct": True, "semi_instruct": False}) == ("evol_instruct",)
    assert methods("self_instruct,evol_instruct") == ("evol_instruct", "self_instruct")
    config = build(PipelinesConfig, "pipelines", data={"pipelines": {"require_tests": False}}, use_env=False)
    assert updated(config, "pipelines", {}).methods_requiring_tests == ()
    for bad in (["semi"], {"semi": True}, {"semi_instruct": "x"}, 3):
        with pytest.raises(InvalidInput, match=r"pipelines\.require_tests"):
            methods(bad)
