"""JavaScript, C++ and Java: run, compile inside the sandbox, compile errors are SYNTAX_ERROR."""

from __future__ import annotations

import pytest

from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.core import Sandbox

CPP_ECHO = ("#include <iostream>\n#include <string>\n"
            "int main() { std::string s; std::cin >> s; std::cout << s << s << '\\n'; }\n")
JAVA_ECHO = ("import java.util.Scanner;\npublic class Echo {\n  public static void main(String[] a) {\n"
             "    System.out.println(new Scanner(System.in).next() + \"!\");\n  }\n}\n")
JS_ECHO = "const s = require('fs').readFileSync(0, 'utf8').trim();\nconsole.log(s.toUpperCase());\n"


def need(sandbox: Sandbox, language: str) -> None:
    if language not in sandbox.recipes:
        pytest.skip(f"no {language} toolchain on this machine (scripts/setup/10-sandbox.sh installs it)")


@pytest.mark.parametrize(("language", "code", "expected"), [
    ("javascript", JS_ECHO, "ABC\n"), ("cpp", CPP_ECHO, "abcabc\n"), ("java", JAVA_ECHO, "abc!\n")])
def test_runs_on_stdin(sandbox: Sandbox, language: str, code: str, expected: str) -> None:
    need(sandbox, language)
    result = sandbox.execute(code, language, stdin="abc\n", limits={"timeout_s": 10})
    assert (result.status, result.stdout) == (Status.OK, expected), result


@pytest.mark.parametrize(("language", "code"), [
    ("javascript", "function (\n"), ("cpp", "int main( {\n"), ("java", "public class Broken {\n")])
def test_compile_errors_are_syntax_errors(sandbox: Sandbox, language: str, code: str) -> None:
    need(sandbox, language)
    result = sandbox.execute(code, language, limits={"timeout_s": 10})
    assert result.status is Status.SYNTAX_ERROR, result
    assert result.detail


def test_cpp_tests_compile_once_and_judge_each_case(sandbox: Sandbox) -> None:
    need(sandbox, "cpp")
    tests = [{"input": "ab\n", "output": "abab\n"}, {"input": "x\n", "output": "y\n"}]
    result = sandbox.run_tests(CPP_ECHO, "cpp", "", tests, {"timeout_s": 10})
    assert [c.status for c in result.cases] == [Status.OK, Status.WRONG_ANSWER]
    broken = sandbox.run_tests("int main( {", "cpp", "", tests, {"timeout_s": 10})
    assert [c.status for c in broken.cases] == [Status.SYNTAX_ERROR, Status.SYNTAX_ERROR]


def test_cpp_crashes_and_memory(sandbox: Sandbox) -> None:
    need(sandbox, "cpp")
    crash = sandbox.execute("int main() { int *p = nullptr; return *p; }", "cpp", limits={"timeout_s": 10})
    assert (crash.status, crash.signal) == (Status.RUNTIME_ERROR, "SIGSEGV")
    hog = sandbox.execute("#include <vector>\nint main() { std::vector<char> v(10ULL << 30, 1); return v[5]; }",
                          "cpp", limits={"timeout_s": 10})
    assert hog.status is Status.MEMORY_EXCEEDED, hog


def test_javascript_runtime_error_and_network(sandbox: Sandbox) -> None:
    need(sandbox, "javascript")
    error = sandbox.execute("throw new Error('boom');", "javascript", limits={"timeout_s": 10})
    assert error.status is Status.RUNTIME_ERROR and "boom" in error.detail
    net = sandbox.execute("require('net').connect(80, '127.0.0.1').on('error', e => console.log(e.code));",
                          "javascript", limits={"timeout_s": 10})
    assert net.stdout.strip() in {"EACCES", "EPERM"}, net


def test_java_exception_is_a_runtime_error(sandbox: Sandbox) -> None:
    need(sandbox, "java")
    code = "public class Main { public static void main(String[] a) { throw new IllegalStateException(\"no\"); } }"
    result = sandbox.execute(code, "java", limits={"timeout_s": 15})
    assert result.status is Status.RUNTIME_ERROR and "IllegalStateException" in result.detail
