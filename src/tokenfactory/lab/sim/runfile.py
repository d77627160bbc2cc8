"""The byte format of a simulated .run package: a makeself-like shell header and a gzip'd tar payload.

The header checks the payload's sha256 (`--check` does only that), extracts it into a temporary directory,
runs `python3 <tmp>/install.py "$@"` and removes the directory. The payload holds install.py,
package.json (the manifest) and the ascend_sim runtime. Same package, same bytes: the tar has fixed
names, order, owners and times, and the gzip header no timestamp.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

from tokenfactory.lab.sim.tools.bundle import PACKAGE, runtime_sources
from tokenfactory.lab.sim.tools.layout import Package

_INSTALL_PY = b'''"""Entry point of a simulated Ascend .run package (tokenfactory simulator, not a Huawei package)."""
import sys
from pathlib import Path

from ascend_sim.tools.installer import main

sys.exit(main(sys.argv[1:], Path(__file__).with_name("package.json")))
'''

_HEADER = """#!/bin/bash
# tokenfactory simulator: SIMULATED Ascend package {file} -- not a Huawei package.
# Self-extracting like makeself: the gzip'd tar below the __PAYLOAD_BELOW__ line holds the installer.
file_name='{file}'
payload_sha256='{sha256}'
payload_line={line}
payload() {{ tail -n +"$payload_line" "$0"; }}
verify() {{ [ "$(payload | sha256sum | cut -d' ' -f1)" = "$payload_sha256" ]; }}
echo "# tokenfactory simulator: simulated package $file_name" >&2
for arg in "$@"; do
    if [ "$arg" = "--check" ]; then
        printf 'Verifying archive integrity...'
        if verify; then
            echo '  100%   SHA256 checksums are OK. All good.'
            exit 0
        fi
        echo '  Error in SHA256 checksums: the package is corrupted.'
        exit 1
    fi
done
if ! verify; then
    echo 'Verifying archive integrity... Error in SHA256 checksums: the package is corrupted.' >&2
    exit 1
fi
tmp=$(mktemp -d "${{TMPDIR:-/tmp}}/ascend-sim.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
payload | tar -xzf - -C "$tmp" || exit 1
python3 "$tmp/install.py" "$@"
exit $?
__PAYLOAD_BELOW__
"""


def run_file(package: Package) -> bytes:
    payload = _payload(package)
    header = _HEADER.format(
        file=package.file,
        sha256=hashlib.sha256(payload).hexdigest(),
        line=_HEADER.count("\n") + 1,
    )
    return header.encode() + payload


def _payload(package: Package) -> bytes:
    files = [
        ("install.py", _INSTALL_PY),
        ("package.json", package.to_json().encode()),
        *((f"{PACKAGE}/{name}", data) for name, data in runtime_sources()),
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid, info.gid, info.uname, info.gname = 0, 0, "root", "root"
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)
