"""What runs inside the lab containers: stdlib only, and the installed tools are self-contained files."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
import zipfile

from tokenfactory.lab.sim.tools.bundle import TOOLS, runtime_sources, tool_executable

from .conftest import SimHost


def _imports(tree: ast.Module) -> set[str]:
    """Top-level modules imported absolutely, outside `if TYPE_CHECKING:` blocks."""
    modules: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.If) and getattr(statement.test, "id", "") == "TYPE_CHECKING":
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_runtime_imports_only_the_standard_library() -> None:
    names = [name for name, _ in runtime_sources()]
    assert names[:2] == ["__init__.py", "hardware.py"]
    assert {"tools/installer.py", "tools/npu_smi.py", "tools/hccn_tool.py", "tools/all_reduce_test.py"} <= set(names)
    for name, data in runtime_sources():
        imported = _imports(ast.parse(data, filename=name))
        assert imported <= sys.stdlib_module_names, (name, imported - sys.stdlib_module_names)


def test_tool_executables_are_deterministic_zip_applications() -> None:
    for tool in TOOLS:
        data = tool_executable(tool)
        assert data == tool_executable(tool)
        assert data.startswith(b"#!/usr/bin/env python3\n")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.read("__main__.py").decode().count(f"tools.{TOOLS[tool]} import main") == 1


def test_a_tool_runs_on_a_bare_interpreter(sim: SimHost) -> None:
    """-I -S: no user site, no site-packages, no PYTHON* variables; only the standard library is there."""
    interpreter = os.path.realpath(sys.executable)
    result = subprocess.run([interpreter, "-I", "-S", str(sim.path("/usr/local/bin/npu-smi")), "info", "-l"],
                            capture_output=True, text=True, check=False,
                            env={"ASCEND_SIM_ROOT": str(sim.root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "Total Count                    : 8" in result.stdout
