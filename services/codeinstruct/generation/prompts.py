"""Prompt templates: versioned text files under `generation/prompts/`, loaded by name.

A file `<name>.v<N>.txt` has a header (`key: value` lines: name, version, source, placeholders),
a line `---`, then the template body. `{placeholder}` fields are filled by `render`, which
replaces only the declared names in ONE pass, so code containing braces (or text that looks like
a placeholder) is inserted verbatim. Each template's sha256 goes into the generation fingerprint:
editing a prompt changes record ids and never silently mixes outputs of two prompt versions.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.resources
import re

from codeinstruct.core.errors import InvalidInput, NotFound

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclasses.dataclass(frozen=True)
class Template:
    name: str
    version: int
    source: str
    placeholders: tuple[str, ...]
    body: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()[:12]

    @property
    def ref(self) -> str:
        """`name@vN#sha`: what fingerprints and docs record."""
        return f"{self.name}@v{self.version}#{self.sha}"

    def render(self, **values: str) -> str:
        missing = set(self.placeholders) - set(values)
        if missing:
            raise InvalidInput(f"template {self.name} needs {sorted(missing)}", field="template")
        return _FIELD.sub(lambda m: values[m.group(1)] if m.group(1) in self.placeholders else m.group(0),
                          self.body)

    def lines(self) -> list[str]:
        """Non-empty body lines (for list templates such as prefixes and heuristics)."""
        return [line for line in self.body.splitlines() if line.strip()]


def _parse(filename: str, text: str) -> Template:
    header, sep, body = text.partition("\n---\n")
    if not sep:
        raise ValueError(f"prompt file {filename} lacks the '---' line after its header")
    meta: dict[str, str] = {}
    for line in header.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    placeholders = tuple(p.strip() for p in meta.get("placeholders", "").split(",") if p.strip())
    body = body.rstrip("\n")
    for name in placeholders:
        if "{" + name + "}" not in body:
            raise ValueError(f"prompt file {filename} declares placeholder {name!r} but does not use it")
    return Template(name=meta["name"], version=int(meta["version"]), source=meta.get("source", ""),
                    placeholders=placeholders, body=body)


@functools.cache
def load(name: str, version: int | None = None) -> Template:
    """The template `name` at `version` (default: the highest version shipped)."""
    files = importlib.resources.files("codeinstruct.generation").joinpath("prompts")
    found: dict[int, str] = {}
    for entry in files.iterdir():
        match = re.fullmatch(re.escape(name) + r"\.v(\d+)\.txt", entry.name)
        if match:
            found[int(match.group(1))] = entry.name
    if not found:
        raise NotFound(f"no prompt template named {name!r}")
    chosen = version if version is not None else max(found)
    if chosen not in found:
        raise NotFound(f"prompt template {name!r} has versions {sorted(found)}, not {chosen}")
    filename = found[chosen]
    template = _parse(filename, files.joinpath(filename).read_text(encoding="utf-8"))
    if template.name != name or template.version != chosen:
        raise ValueError(f"prompt file {filename} declares name {template.name!r} v{template.version}")
    return template


def all_names() -> list[str]:
    files = importlib.resources.files("codeinstruct.generation").joinpath("prompts")
    return sorted({re.sub(r"\.v\d+\.txt$", "", e.name) for e in files.iterdir() if e.name.endswith(".txt")})
