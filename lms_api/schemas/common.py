"""Shared pieces of the API models: safe strings, pages, the error body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..errors import ApiError

# Datetimes the databases and Python can both hold after conversion to UTC.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def storable_text(value: str) -> str:
    """Refuse what a database cannot store: NUL characters (PostgreSQL) and lone surrogates (UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


def is_safe_link(url: str) -> bool:
    """A link a page may render: absolute http(s) with a host, or a path on this site ("/..."). No
    `javascript:`/`data:` schemes, no protocol-relative "//host", no backslashes, spaces or controls."""
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in url):
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and url[: len(parts.scheme)].isascii()


def storable_datetime(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        if EARLIEST <= aware <= LATEST:
            return aware.astimezone(UTC)
    except OverflowError:
        pass
    raise ValueError("must lie between 1900 and 2200")


Text = Annotated[str, AfterValidator(storable_text)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(storable_text)]
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
ItemIdStr = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
]
Timestamp = Annotated[datetime, AfterValidator(storable_datetime)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]

# Path and query ids: bounded so no database is asked about an integer it cannot hold.
MAX_ID = 2**31 - 1


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused (no mass assignment), numbers must be finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=False)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Malformed request"),
    401: _error("No valid credentials"),
    403: _error("Credentials lack the scope or role for this action"),
    404: _error("No such object, or not visible to the caller"),
    409: _error("Conflicts with stored state"),
    413: _error("Request body too large"),
    422: _error("Invalid input"),
    502: _error("JupyterHub (or the LRS) did not answer"),
    503: _error("Busy; retry"),
}

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def ensure_storable(value: Any, where: str = "body") -> None:
    """Walk a parsed body (dicts, lists, strings, datetimes) and refuse what cannot be stored."""
    try:
        _walk(value)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"{where}: {exc}") from exc


def _walk(value: Any) -> None:
    if isinstance(value, str):
        storable_text(value)
    elif isinstance(value, datetime):
        storable_datetime(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(key)
            _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(item)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _walk(getattr(value, name))
