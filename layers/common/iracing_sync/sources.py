"""Where a sync task's iRacing bodies come from: a client with the account's credentials (or a replay of the
archive), and the archive that keeps every body fetched."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from iracing_sync.archive import Archive
from iracing_sync.client import Credentials, IracingClient, ReplayClient, parse_credentials
from iracing_sync.errors import MalformedPayload, PermanentError, RetryableError
from iracing_sync.settings import Settings, get_settings

# Parameter Store errors that a retry cannot mend (the parameter missing, not readable, or its key refusing).
_PERMANENT_PARAMETER_ERRORS = frozenset(
    {"ParameterNotFound", "AccessDeniedException", "InvalidKeyId", "KMSAccessDeniedException"}
)


def load_credentials(settings: Settings) -> Credentials:
    """iRacing credentials: Parameter Store in AWS, else a local file (outside the repo), else the environment.

    Errors name where the credentials were looked for, never a value.
    """
    if name := settings.iracing_parameter_name:
        from aws_lambda_powertools.utilities import parameters
        from botocore.exceptions import ClientError

        try:
            # A SecureString, decrypted by Parameter Store; cached for 5 minutes across warm invocations, so a sync's
            # many Lambdas cost few calls.
            secret = parameters.get_parameter(name, decrypt=True, transform="json", max_age=300)
        except parameters.exceptions.TransformParameterError as exc:
            raise MalformedPayload(f"parameter {name} is not JSON") from exc
        except parameters.exceptions.GetParameterError as exc:
            # Powertools wraps the AWS error (implicitly chained): a missing or forbidden parameter stays so.
            cause = exc.__cause__ or exc.__context__
            code = cause.response.get("Error", {}).get("Code") if isinstance(cause, ClientError) else None
            if code in _PERMANENT_PARAMETER_ERRORS:
                raise PermanentError(f"cannot read parameter {name}: {code}") from exc
            raise RetryableError(f"cannot read parameter {name} now; retry") from exc
        return parse_credentials(secret)
    if settings.iracing_credentials_file:
        path = settings.iracing_credentials_file.expanduser().resolve()
        if any((folder / ".git").exists() for folder in path.parents):
            # One `git add .` away from publishing the password: refuse instead of warning.
            raise PermanentError(f"credentials file {path} is inside a git repository; keep it outside the repo")
        try:
            return parse_credentials(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise PermanentError(f"cannot read credentials file {path}") from exc
    env = {
        "username": settings.iracing_username,
        "password": settings.iracing_password,
        "client_id": settings.iracing_client_id,
        "client_secret": settings.iracing_client_secret,
    }
    missing = [f"IRACING_{key.upper()}" for key, value in env.items() if not value]
    if len(missing) == len(env):
        raise PermanentError(
            "no iRacing credentials: set IRACING_PARAMETER_NAME, IRACING_CREDENTIALS_FILE or IRACING_*"
        )
    if missing:
        raise PermanentError(f"incomplete iRacing credentials: {', '.join(missing)} not set")
    return parse_credentials(env)


def new_client() -> IracingClient:
    """A client for one invocation (its request counter starts at 0).

    Tokens and the rate budget are shared through DynamoDB, so a new client per invocation costs no login.
    With IRACING_REPLAY set, the client answers from that archive and sends nothing to iRacing.
    """
    settings = get_settings()
    if settings.iracing_replay:
        return ReplayClient(Archive(settings, location=settings.iracing_replay))
    return IracingClient(settings, load_credentials(settings))


@lru_cache(maxsize=1)
def shared_archive() -> Archive:
    """The stack's archive (one per process)."""
    return Archive(get_settings())


@lru_cache(maxsize=2)
def archived(location: str, key: str) -> Any:
    """An archived body, parsed once per process. Shared between calls: read it, never change it."""
    # Archived bodies are written once under keys carrying their fetch time, so keeping one is safe; a warm
    # Lambda serving many Map items of a run (a season each, all from one series/seasons body of several MB)
    # then fetches and parses it once instead of once per season. Two: a season reads a body and a listing.
    return Archive(get_settings(), location=location).get(key)


def fetch(client: IracingClient, endpoint: str, **params: Any) -> tuple[Any, str]:
    """A body fetched from iRacing and archived: the body and its archive key."""
    body = client.get(endpoint, **params)
    return body, shared_archive().put(endpoint, params, body)
