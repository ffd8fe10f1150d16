"""The package's lazy exports stay functions, whichever submodules have been imported."""

import pkgutil
import subprocess
import sys
import textwrap
import types

import codeinstruct.scoring as scoring


def test_no_exported_name_is_also_a_submodule_name():
    # Importing a submodule binds its name on the package, which would shadow a same-named export.
    submodules = {info.name for info in pkgutil.iter_modules(scoring.__path__)}
    assert submodules, "no submodules found: the check would pass vacuously"
    assert not submodules & set(scoring.__all__)


def test_dedup_and_coreset_are_functions_before_and_after_their_modules_load():
    # A fresh interpreter: in this test session the submodules may already be imported.
    code = textwrap.dedent("""
        import types
        from codeinstruct.scoring import coreset, dedup
        before = (dedup, coreset)
        import codeinstruct.scoring.coreset_selection as coreset_selection
        import codeinstruct.scoring.deduplication as deduplication
        from codeinstruct.scoring import coreset, dedup
        import codeinstruct.scoring as scoring
        after = (dedup, coreset, scoring.dedup, scoring.coreset)
        assert all(isinstance(f, types.FunctionType) for f in before + after), (before, after)
        assert before == after[:2] == after[2:] == (deduplication.dedup, coreset_selection.coreset)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
    # and in this process, whatever was imported before
    assert isinstance(scoring.dedup, types.FunctionType) and isinstance(scoring.coreset, types.FunctionType)
