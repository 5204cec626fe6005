"""A small reader of MetaImage volumes (``.mhd`` header + ``.raw`` data), as LUNA16 distributes them.

Header: ``Key = Value`` lines (ITK MetaIO), ending with ``ElementDataFile``. Read: ``NDims`` (3),
``DimSize`` (x y z), ``ElementType`` (MET_CHAR/UCHAR/SHORT/USHORT/INT/UINT/FLOAT/DOUBLE),
``ElementSpacing`` (mm), ``Offset`` (``Position``/``Origin``: world mm of the first voxel),
``TransformMatrix`` (``Rotation``/``Orientation``: the x, y and z axis directions, three numbers
each), ``BinaryDataByteOrderMSB`` (``ElementByteOrderMSB``), ``CompressedData`` (zlib) and
``HeaderSize``. The data file holds x fastest, then y, then z.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ELEMENT_TYPES = {
    "MET_CHAR": "i1", "MET_UCHAR": "u1", "MET_SHORT": "i2", "MET_USHORT": "u2", "MET_INT": "i4", "MET_UINT": "u4",
    "MET_FLOAT": "f4", "MET_DOUBLE": "f8",
}
ALIASES = {"Position": "Offset", "Origin": "Offset", "Rotation": "TransformMatrix", "Orientation": "TransformMatrix",
           "ElementByteOrderMSB": "BinaryDataByteOrderMSB"}
MAX_HEADER_BYTES = 64 * 1024


class MetaImageError(ValueError):
    """A MetaImage header or data file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class MetaImage:
    """Voxels (z, y, x); spacing (x, y, z) mm; offset: world (x, y, z) of voxel 0; axes: rows are x, y, z directions."""

    voxels: np.ndarray
    spacing: tuple[float, float, float]
    offset: tuple[float, float, float]
    axes: np.ndarray


def read_header(path: Path) -> dict[str, str]:
    raw = Path(path).read_bytes()[:MAX_HEADER_BYTES]
    fields: dict[str, str] = {}
    for number, line in enumerate(raw.decode("latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise MetaImageError(f"{path}: line {number} is not 'Key = Value': {line[:60]!r}")
        key = ALIASES.get(key.strip(), key.strip())
        fields[key] = value.strip()
        if key == "ElementDataFile":
            return fields
    raise MetaImageError(f"{path}: no ElementDataFile line (not a MetaImage header, or cut short)")


def _numbers(fields: dict[str, str], key: str, count: int, path: Path, default: list[float] | None = None) -> list[float]:
    if key not in fields:
        if default is None:
            raise MetaImageError(f"{path}: {key} is missing")
        return default
    try:
        values = [float(v) for v in fields[key].split()]
    except ValueError:
        raise MetaImageError(f"{path}: {key} = {fields[key]!r} is not {count} numbers") from None
    if len(values) != count:
        raise MetaImageError(f"{path}: {key} = {fields[key]!r} is not {count} numbers")
    return values


def read_metaimage(path: Path) -> MetaImage:
    path = Path(path)
    fields = read_header(path)
    if fields.get("ObjectType", "Image") != "Image":
        raise MetaImageError(f"{path}: ObjectType {fields['ObjectType']!r} is not Image")
    if fields.get("NDims") != "3":
        raise MetaImageError(f"{path}: NDims {fields.get('NDims')!r}: only 3-D volumes are CT scans")
    size = [int(v) for v in _numbers(fields, "DimSize", 3, path)]
    if min(size) < 1:
        raise MetaImageError(f"{path}: DimSize {size} has an empty axis")
    kind = fields.get("ElementType", "")
    if kind not in ELEMENT_TYPES:
        raise MetaImageError(f"{path}: ElementType {kind!r} is not one of {', '.join(ELEMENT_TYPES)}")
    if int(float(fields.get("ElementNumberOfChannels", "1"))) != 1:
        raise MetaImageError(f"{path}: more than one channel per voxel")
    spacing = _numbers(fields, "ElementSpacing", 3, path, _numbers(fields, "ElementSize", 3, path, [1.0, 1.0, 1.0]))
    if min(spacing) <= 0:
        raise MetaImageError(f"{path}: ElementSpacing {spacing} must be positive")
    offset = _numbers(fields, "Offset", 3, path, [0.0, 0.0, 0.0])
    axes = np.asarray(_numbers(fields, "TransformMatrix", 9, path, [1, 0, 0, 0, 1, 0, 0, 0, 1]), dtype=np.float64).reshape(3, 3)
    if not np.allclose(axes @ axes.T, np.eye(3), atol=1e-4):
        raise MetaImageError(f"{path}: TransformMatrix is not a rotation")
    msb = fields.get("BinaryDataByteOrderMSB", "False").lower() == "true"
    dtype = np.dtype(ELEMENT_TYPES[kind]).newbyteorder(">" if msb else "<")
    data_name = fields["ElementDataFile"]
    if data_name == "LOCAL":
        raise MetaImageError(f"{path}: data inside the header (LOCAL) is not supported; LUNA16 ships .raw files")
    data_path = path.parent / data_name
    if Path(data_name).name != data_name or not data_path.is_file():
        raise MetaImageError(f"{path}: data file {data_name!r} is missing beside it")
    data = data_path.read_bytes()
    skip = int(fields.get("HeaderSize", "0"))
    data = data[skip:] if skip >= 0 else data[len(data) - int(np.prod(size)) * dtype.itemsize:]
    if fields.get("CompressedData", "False").lower() == "true":
        try:
            data = zlib.decompress(data)
        except zlib.error as error:
            raise MetaImageError(f"{data_path}: CompressedData is not zlib data ({error})") from None
    expected = int(np.prod(size)) * dtype.itemsize
    if len(data) != expected:
        raise MetaImageError(f"{data_path}: {len(data)} bytes, but DimSize {size} of {kind} needs {expected}")
    voxels = np.frombuffer(data, dtype=dtype).reshape(size[2], size[1], size[0]).astype(dtype.newbyteorder("="))
    return MetaImage(voxels, tuple(spacing), tuple(offset), axes)  # type: ignore[arg-type]
