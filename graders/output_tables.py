"""Load a table a sandboxed model produced, after checking its Parquet metadata.

A small file can claim millions of rows or gigabytes once decompressed; the footer says so
before anything is decoded, so such a table is refused without being loaded.
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


class OutputTooLarge(TableError):
    """The output claims more rows, columns or bytes than the protocol allows."""


def read_output_table(path: os.PathLike | str, *, max_rows: int, source: str, metadata_only: bool = False) -> pd.DataFrame:
    """The table in ``path`` (Parquet), refused when empty, malformed or larger than allowed."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise TableError(source, "the model produced no table")
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
