"""Load a table a sandboxed model produced, after checking its Parquet metadata.

A small file can claim millions of rows or gigabytes once decompressed; the footer says so
before anything is decoded, so such a table is refused without being loaded. The footer itself is
attacker's Thrift, which a reader expands a few hundred times in memory (a column chunk of three
bytes becomes a C++ object of hundreds): its length, in the file's last bytes, is checked before it
is parsed.
"""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from practicum.sandbox.limits import MIB, describe_bytes
from practicum.sandbox.readback import open_regular

from .tables import TableError

MAX_COLUMNS = 64
MAX_DECODED_BYTES = 1024 * MIB
# A table of MAX_COLUMNS columns and a few row groups has a footer of tens of kilobytes.
MAX_FOOTER_BYTES = 1 * MIB
_MAGIC = b"PAR1"


class OutputTooLarge(TableError):
    """The output claims more rows, columns or bytes than the protocol allows."""


def read_output_table(path: os.PathLike | str, *, max_rows: int, source: str, metadata_only: bool = False) -> pd.DataFrame:
    """The table in ``path`` (Parquet), refused when empty, malformed or larger than allowed."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise TableError(source, "the model produced no table")
        _refuse_large_footer(handle, size, source)
        try:
            parquet = pq.ParquetFile(handle)
            meta = parquet.metadata
        except (pa.ArrowException, OSError, ValueError) as error:
            raise TableError(source, f"not a Parquet table ({error})") from None
        decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if meta.num_rows > max_rows:
            raise OutputTooLarge(source, f"{meta.num_rows:,} rows, but at most {max_rows:,} are expected for this input")
        if meta.num_columns > MAX_COLUMNS:
            raise OutputTooLarge(source, f"{meta.num_columns} columns, but at most {MAX_COLUMNS} are accepted")
        if decoded > MAX_DECODED_BYTES:
            raise OutputTooLarge(source, f"{describe_bytes(decoded)} once decoded, more than {describe_bytes(MAX_DECODED_BYTES)}")
        if metadata_only:
            return pd.DataFrame()
        try:
            table = parquet.read()
        except (pa.ArrowException, OSError, ValueError) as error:
            raise TableError(source, f"the Parquet table cannot be read ({error})") from None
    if table.num_rows != meta.num_rows:
        raise TableError(source, "the Parquet table holds another number of rows than its footer says")
    return table.to_pandas()


def _refuse_large_footer(handle, size: int, source: str) -> None:
    """A Parquet file ends with its footer's length (4 bytes, little-endian) and the magic PAR1."""
    if size < 2 * len(_MAGIC) + 4:
        raise TableError(source, "not a Parquet table (too short)")
    handle.seek(size - len(_MAGIC) - 4)
    tail = handle.read(len(_MAGIC) + 4)
    handle.seek(0)
    if tail[4:] != _MAGIC:
        raise TableError(source, "not a Parquet table (it does not end with PAR1)")
    footer = int.from_bytes(tail[:4], "little")
    if footer > MAX_FOOTER_BYTES:
        raise OutputTooLarge(source, f"its Parquet footer is {describe_bytes(footer)}, more than {describe_bytes(MAX_FOOTER_BYTES)}")
