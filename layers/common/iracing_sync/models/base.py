"""What every model shares: validators built on first use, the UTC instant string, one-line validation errors."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict

# Validators built on first use, not on import: about forty models live in this package and each function uses a
# handful, so building them all would be paid on every cold start for shapes that function never sees. No field
# is called model_*, so pydantic's check of every field name against its own namespace (a tenth of a class's
# creation) is left out. A dumped model holds every field, defaults included, so its JSON Schema as an answer
# (serialization) requires them all.
DEFERRED = ConfigDict(defer_build=True, protected_namespaces=(), json_schema_serialization_defaults_required=True)

# Marks a field an answer leaves out unless asked for it (e.g. local times without tz): the OpenAPI document
# states it optional and never null (api.openapi).
OMITTED_UNLESS_ASKED: JsonDict = {"x-omitted-unless-asked": True}


class DeferredModel(BaseModel):
    """Base for every model of the service: its validator is built on first use (see DEFERRED)."""

    model_config = DEFERRED


# An instant as the HTTP API writes it (instants.iso_z).
UtcInstant = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]


def validation_summary(exc: ValidationError) -> str:
    """The first validation error in one line: its field path and message, plus how many more there are.

    The path reads like the data: ``schedules[0].race_time_descriptors[1].start_date``.
    """
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:  # pragma: no cover - pydantic always reports at least one error
        return str(exc).splitlines()[0]
    first = errors[0]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
    message = " ".join(str(first["msg"]).split())
    more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    return f"{path or 'body'}: {message}{more}"
