"""Static files of the pages, read once from the installed packages that ship them and served with
long-lived caching: plotly.js (the `plotly` package), Swagger UI (the `fastapi-swagger` package, which
ships upstream's dist files; only the files are used) and our own.

The file name carries the package version, so a browser caches each for a year and an upgrade is
a new URL. Bodies are gzipped once, at first use, not per request (plotly.min.js is 4.8 MB, 1.4 MB
gzipped).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

from ..errors import ApiError

OWN_STATIC = Path(__file__).parent / "static"
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png"}


def package_folder(distribution: str, module: str) -> Path:
    """Where an installed package lives, found without importing it (plotly's import is slow)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {distribution!r} package is not installed (pip install {distribution})")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _catalog() -> tuple[dict[str, str], dict[str, Path]]:
    """(short name -> URL file name, URL file name -> file on disk)."""
    plotly = importlib.metadata.version("plotly")
    swagger = f"fastapi-swagger-{importlib.metadata.version('fastapi-swagger')}"
    swagger_files = package_folder("fastapi-swagger", "fastapi_swagger") / "resources"
    named = {
        "plotly": (f"plotly-{plotly}.min.js", package_folder("plotly", "plotly") / "package_data" / "plotly.min.js"),
        "swagger-ui-bundle": (f"{swagger}-swagger-ui-bundle.js", swagger_files / "swagger-ui-bundle.js"),
        "swagger-ui-css": (f"{swagger}-swagger-ui.css", swagger_files / "swagger-ui.css"),
        "swagger-ui-favicon": (f"{swagger}-favicon.png", swagger_files / "favicon-32x32.png"),
    }
    for path in OWN_STATIC.iterdir():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        named[path.name] = (f"{path.stem}-{digest}{path.suffix}", path)
    return {short: url for short, (url, _) in named.items()}, dict(named.values())


def vendored_files() -> dict[str, Path]:
    """URL file name -> file on disk."""
    return _catalog()[1]


def asset_names() -> dict[str, str]:
    """Short name ('plotly', 'swagger-ui-bundle', 'swagger-ui-css', 'swagger-ui-favicon', our files by name)
    -> URL file name."""
    return _catalog()[0]


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


@cache
def load_asset(url_name: str) -> Asset:
    path = vendored_files()[url_name]
    body = path.read_bytes()
    return Asset(
        body=body, gzipped=gzip.compress(body, compresslevel=6), media_type=_MEDIA_TYPES[path.suffix],
        etag=f'"{hashlib.sha256(body).hexdigest()[:16]}"',
    )


router = APIRouter(include_in_schema=False)


@router.get("/pages/static/{name}")
async def static_file(name: str, request: Request) -> Response:
    if name not in vendored_files():
        raise ApiError(404, "not_found", "No such file.")
    asset = load_asset(name)
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": asset.etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(asset.gzipped, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)
