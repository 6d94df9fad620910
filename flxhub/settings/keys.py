"""Load a secret from the environment, or generate and persist one for the embedded mode."""

import secrets
from pathlib import Path


def persisted_secret(path: Path, generate) -> str:
    """Return the secret stored at ``path``, creating it (mode 0600) with ``generate()`` the first time."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    path.touch(mode=0o600)
    path.write_text(value)
    return value


def new_django_secret() -> str:
    return secrets.token_urlsafe(50)


def new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
