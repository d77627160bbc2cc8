"""The lab's SSH identity and known_hosts: generated, disposable, never used outside the lab."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def ensure_keypair(private_path: Path) -> str:
    """Create an Ed25519 key pair once (mode 0600); return the public key line."""
    public_path = private_path.with_suffix(".pub")
    if not private_path.is_file():
        private_path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        public_path.write_text(public.decode() + " tokenfactory-lab\n", encoding="utf-8")
    return public_path.read_text(encoding="utf-8").strip()


def known_hosts_lines(host_keys: dict[str, str]) -> str:
    """address -> 'ssh-ed25519 AAAA...' into known_hosts format, sorted for stable files."""
    lines = []
    for address, key in sorted(host_keys.items()):
        kind, blob = key.split()[:2]
        lines.append(f"{address} {kind} {blob}")
    return "\n".join(lines) + "\n"
