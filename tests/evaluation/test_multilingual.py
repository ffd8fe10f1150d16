"""The MultiPL-E-style translation: hand-written solutions pass the translated tests in the real
sandbox (node, g++, javac), wrong ones fail, and untranslatable problems are skipped with reasons."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation import multilingual
from codeinstruct.evaluation.assertions import Case, Untranslatable, cases
from codeinstruct.evaluation.problems import Problem, program
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

UID_BASE = 63000 + (os.getpid() % 500) * 4 + 2200

# completions (function bodies closing the function), by source task number
JAVASCRIPT = {
    0: "  for (let i = 0; i < numbers.length; i++)\n    for (let j = 0; j < numbers.length; j++)\n"
       "      if (i !== j && Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n  return false;\n}\n",
    2: "  return number % 1.0;\n}\n",
    3: "  let b = 0;\n  for (const op of operations) { b += op; if (b < 0) return true; }\n  return false;\n}\n",
    4: "  const m = numbers.reduce((a, b) => a + b, 0) / numbers.length;\n"
       "  return numbers.reduce((a, x) => a + Math.abs(x - m), 0) / numbers.length;\n}\n",
    7: "  return strings.filter((s) => s.includes(substring));\n}\n",
    12: "  if (strings.length === 0) return undefined;\n  let best = strings[0];\n"
        "  for (const s of strings) if (s.length > best.length) best = s;\n  return best;\n}\n",
    13: "  while (b) { [a, b] = [b, a % b]; }\n  return a;\n}\n",
    23: "  return string.length;\n}\n",
    34: "  return [...new Set(l)].sort((a, b) => a - b);\n}\n",
    55: "  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}\n",
    111: "  const counts = {};\n  for (const w of test.split(' ')) if (w) counts[w] = (counts[w] || 0) + 1;\n"
         "  const top = Math.max(0, ...Object.values(counts));\n  const out = {};\n"
         "  for (const [k, v] of Object.entries(counts)) if (v === top) out[k] = v;\n  return out;\n}\n",
    136: "  const neg = lst.filter((x) => x < 0), pos = lst.filter((x) => x > 0);\n"
         "  return [neg.length ? Math.max(...neg) : undefined, pos.length ? Math.min(...pos) : undefined];\n}\n",
}
CPP = {
    0: "    for (size_t i = 0; i < numbers.size(); i++)\n        for (size_t j = 0; j < numbers.size(); j++)\n"
       "            if (i != j && std::abs(numbers[i] - numbers[j]) < threshold) return true;\n    return false;\n",
    2: "    return number - std::floor(number);\n",
    3: "    long b = 0;\n    for (long op : operations) { b += op; if (b < 0) return true; }\n    return false;\n",
    4: "    double m = 0; for (double x : numbers) m += x; m /= numbers.size();\n"
       "    double d = 0; for (double x : numbers) d += std::abs(x - m); return d / numbers.size();\n",
    7: "    std::vector<std::string> out;\n"
       "    for (auto& s : strings) if (s.find(substring) != std::string::npos) out.push_back(s);\n"
       "    return out;\n",
    12: "    if (strings.empty()) return std::nullopt;\n    std::string best = strings[0];\n"
        "    for (auto& s : strings) if (s.size() > best.size()) best = s;\n    return best;\n",
    13: "    while (b) { long t = a % b; a = b; b = t; }\n    return a;\n",
    23: "    return string.size();\n",
    34: "    std::set<long> s(l.begin(), l.end());\n    return std::vector<long>(s.begin(), s.end());\n",
    55: "    return n < 2 ? n : fib(n - 1) + fib(n - 2);\n",
    111: "    std::map<std::string, long> counts, out; std::stringstream in(test); std::string w; long top = 0;\n"
         "    while (in >> w) top = std::max(top, ++counts[w]);\n"
         "    for (auto& [k, v] : counts) if (v == top) out[k] = v;\n    return out;\n",
    136: "    std::optional<long> neg, pos;\n    for (long x : lst) {\n"
         "        if (x < 0 && (!neg || x > *neg)) neg = x;\n        if (x > 0 && (!pos || x < *pos)) pos = x;\n    }\n"
         "    return std::make_tuple(neg, pos);\n",
}
JAVA = {
    0: "        for (int i = 0; i < numbers.size(); i++)\n            for (int j = 0; j < numbers.size(); j++)\n"
       "                if (i != j && Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
       "        return false;\n",
    2: "        return number % 1.0;\n",
    3: "        long b = 0;\n        for (long op : operations) { b += op; if (b < 0) return true; }\n"
       "        return false;\n",
    4: "        double m = 0; for (double x : numbers) m += x; m /= numbers.size();\n"
       "        double d = 0; for (double x : numbers) d += Math.abs(x - m); return d / numbers.size();\n",
    7: "        ArrayList<String> out = new ArrayList<>();\n"
       "        for (String s : strings) if (s.contains(substring)) out.add(s);\n        return out;\n",
    12: "        if (strings.isEmpty()) return Optional.empty();\n        String best = strings.get(0);\n"
        "        for (String s : strings) if (s.length() > best.length()) best = s;\n"
        "        return Optional.of(best);\n",
    13: "        while (b != 0) { long t = a % b; a = b; b = t; }\n        return a;\n",
    23: "        return string.length();\n",
    34: "        return new ArrayList<Long>(new TreeSet<Long>(l));\n",
    55: "        return n < 2 ? n : fib(n - 1) + fib(n - 2);\n",
    111: "        HashMap<String, Long> counts = new HashMap<>(), out = new HashMap<>(); long top = 0;\n"
         "        for (String w : test.split(\" \"))\n"
         "            if (!w.isEmpty()) top = Math.max(top, counts.merge(w, 1L, Long::sum));\n"
         "        for (var e : counts.entrySet()) if (e.getValue() == top) out.put(e.getKey(), e.getValue());\n"
         "        return out;\n",
}
REFERENCES = {"javascript": JAVASCRIPT, "cpp": CPP, "java": JAVA}
# a wrong body per language for HumanEval/13 (gcd): returns the smaller argument
WRONG = {"javascript": "  return Math.min(a, b);\n}\n", "cpp": "    return std::min(a, b);\n",
         "java": "        return Math.min(a, b);\n"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE)) as box:
        yield box


def by_source(language: str) -> dict[int, Problem]:
    translated, _ = multilingual.problems(language=language)
    return {int(p.metadata["source_task_id"].rpartition("/")[2]): p for p in translated}


def run(box: Sandbox, problem: Problem, completion: str) -> tuple[bool, str]:
    result = box.execute(program(problem, completion), problem.language, limits={"timeout_s": 30})
    return result.exit_code == 0 and str(result.status) == "OK", result.stderr + result.detail


@pytest.mark.parametrize("language", multilingual.LANGUAGES)
def test_reference_solutions_pass_and_a_wrong_one_fails(sandbox: Sandbox, language: str) -> None:
    problems = by_source(language)
    references = REFERENCES[language]
    assert len(references) >= 10
    runs = [{"code": program(problems[n], body), "language": language, "limits": {"timeout_s": 30}}
            for n, body in references.items()]
    runs.append({"code": program(problems[13], WRONG[language]), "language": language,
                 "limits": {"timeout_s": 30}})
    results = dict(sandbox.execute_batch(runs))
    for index, number in enumerate(references):
        result = results[index]
        assert str(result.status) == "OK", f"HumanEval/{number} in {language}: {result.stderr}{result.detail}"
    wrong = results[len(references)]
    assert str(wrong.status) != "OK" and wrong.exit_code != 0


def test_translated_counts_and_skip_reasons_add_up() -> None:
    for language in multilingual.LANGUAGES:
        translated, skipped = multilingual.problems(language=language)
        assert len(translated) + sum(skipped.values()) == 164
        assert len(translated) >= 135, (language, skipped)
        assert skipped["helper_code"] == 1 and skipped["test_form"] >= 1 and skipped["mixed_types"] >= 1
        assert all(p.mode == "completion" and p.language == language for p in translated)
        assert all(p.metadata["stop"] == list(multilingual.STOPS[language]) for p in translated)
        if language != "javascript":
            assert all(p.test.lstrip().startswith("}") for p in translated)  # MultiPL-E: the test closes it
        assert len({p.task_id for p in translated}) == len(translated)
    assert multilingual.problems(language="java")[1]["tuple_in_java"] >= 1


def test_limit_counts_the_rest_and_bad_arguments_name_the_field() -> None:
    translated, skipped = multilingual.problems(limit=5, language="cpp")
    assert len(translated) == 5 and skipped["limit"] + 5 + sum(v for k, v in skipped.items() if k != "limit") == 164
    with pytest.raises(InvalidInput) as error:
        multilingual.problems(language="rust")
    assert error.value.field == "language"


def test_assertion_forms() -> None:
    test = ("def check(candidate):\n    print\n    assert candidate(2, 'x') == [1.5], 'msg'\n"
            "    assert True\n    assert not candidate(0, '')\n    assert abs(candidate(1, 'y') - 0.5) < 1e-6\n"
            "    assert candidate(-1, 'a' * 2) is None\n")
    assert cases(test) == [Case((2, "x"), [1.5]), Case((0, ""), False), Case((1, "y"), 0.5, "close", 1e-6),
                           Case((-1, "aa"), None)]
    with pytest.raises(Untranslatable) as error:
        cases("def check(candidate):\n    for x in range(3):\n        assert candidate(x) == x\n")
    assert error.value.reason == "test_form"


def test_prompt_shows_typed_signature_and_translated_examples() -> None:
    java = by_source("java")[0]
    assert "public static boolean hasCloseElements(ArrayList<Double> numbers, double threshold) {" in java.prompt
    assert "// > hasCloseElements(new ArrayList<Double>(Arrays.asList(1.0, 2.0, 3.0)), 0.5)" in java.prompt
    cpp = by_source("cpp")[12]
    assert "std::optional<std::string> longest(std::vector<std::string> strings) {" in cpp.prompt
    javascript = by_source("javascript")[0]
    assert javascript.prompt.rstrip().endswith("function has_close_elements(numbers, threshold){")


@pytest.mark.slow
@pytest.mark.parametrize("language", multilingual.LANGUAGES)
def test_every_translation_compiles_and_a_stub_fails(sandbox: Sandbox, language: str) -> None:
    stub = {"javascript": "  throw new Error('stub');\n}\n", "cpp": "    return {};\n",
            "java": "        throw new RuntimeException(\"stub\");\n"}[language]
    translated, _ = multilingual.problems(language=language)
    runs = [{"code": program(p, stub), "language": language, "limits": {"timeout_s": 30}} for p in translated]
    for index, result in sandbox.execute_batch(runs):
        assert str(result.status) == "RUNTIME_ERROR", (translated[index].task_id, result.stderr[:500], result.detail)


def test_cli_scores_samples_on_the_built_in_multilingual_suite(tmp_path) -> None:
    import json
    import subprocess
    import sys

    from codeinstruct.core.records import write_jsonl_atomic

    chosen = [0, 13]  # two references right, one wrong (the same body as task 13's but for task 23)
    samples = [{"task_id": f"HumanEval-js/{n}", "completion": JAVASCRIPT[n]} for n in chosen]
    samples.append({"task_id": "HumanEval-js/23", "completion": "  return 0;\n}\n"})
    write_jsonl_atomic(tmp_path / "samples.jsonl", samples)
    env = {**os.environ, "CODEINSTRUCT_SANDBOX__UID_BASE": str(UID_BASE + 3)}
    done = subprocess.run([sys.executable, "-m", "codeinstruct", "eval", "humaneval-multilingual", "--language",
                           "javascript", "--samples", str(tmp_path / "samples.jsonl"), "--json"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["suite"] == "humaneval-multilingual" and result["problems_run"] == 3
    assert abs(result["pass@1"] - 2 / 3) < 1e-9
    assert result["problems_total"] == 164 and sum(result["skipped"].values()) == 164 - 148
