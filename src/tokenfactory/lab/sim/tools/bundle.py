"""The simulator's runtime sources, and the single-file tools built from them.

The runtime is the package tokenfactory.lab.sim minus its host-side modules (packages.py, runfile.py);
on simulated hosts it is called `ascend_sim`. An installed tool (npu-smi, hccn_tool, ...) is one
executable file: `#!/usr/bin/env python3` followed by a zip of that package and a __main__.py calling the
tool (Python runs such files directly, see the zipapp module), so it can be bind-mounted alone.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

PACKAGE = "ascend_sim"
TOOLS = {
    "npu-smi": "npu_smi",
    "hccn_tool": "hccn_tool",
    "upgrade-tool": "upgrade_tool",
    "all_reduce_test": "all_reduce_test",
    "ascend-sim": "holder",
}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same bytes


def runtime_sources() -> list[tuple[str, bytes]]:
    """(path inside the package, content) of every module that runs on a simulated host, sorted."""
    sim = Path(__file__).resolve().parent.parent
    files = [sim / "__init__.py", sim / "hardware.py", *sorted((sim / "tools").glob("*.py"))]
    return [(path.relative_to(sim).as_posix(), path.read_bytes()) for path in files]


def tool_executable(tool: str) -> bytes:
    module = TOOLS[tool]
    main = f"import sys\nfrom {PACKAGE}.tools.{module} import main\nsys.exit(main(sys.argv[1:]))\n"
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "__main__.py", main.encode())
        for name, data in runtime_sources():
            _add(archive, f"{PACKAGE}/{name}", data)
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
