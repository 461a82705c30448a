"""Where an execution input holds a credential in plain text: a member of the location kwargs that DataSync's API
model marks sensitive, or a URI's user and password; and the sentence that refuses it."""

import re
from collections.abc import Iterator
from typing import Any

from datasync_steps.api_shapes import secret_members

# Whatever comes before the first / after the scheme holds an @: a user (and a password) before the host.
_CREDENTIALS = re.compile(r"^[^/]*:/*[^/]*@")


def has_credentials(uri: str) -> bool:
    """Whether `uri` holds a user (and maybe a password) before its host, however its slashes are written."""
    return bool(_CREDENTIALS.match(uri))


def secrets_in(kwargs: dict[str, Any], where: str) -> Iterator[str]:
    """Where the kwargs hold a credential in plain text (a member `secret_members` names)."""
    for path in sorted(secret_members()):
        value: Any = kwargs
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value not in (None, "", b""):
            yield ".".join((where, *path))


def plaintext_secret(where: str) -> str:
    return (
        f"{where}: a plaintext secret in the execution input can be read by anyone who may read the execution. "
        'Keep it in AWS Secrets Manager and give CustomSecretConfig instead ({"SecretArn": ..., '
        '"SecretAccessRoleArn": a role DataSync reads it with}), or create the location beforehand; the '
        "deployment's allow_secrets_in_input setting lets plaintext through"
    )
