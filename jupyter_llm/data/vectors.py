"""A pandas column of embedding vectors held as ONE float32 ``(n, d)`` block.

Why an extension dtype rather than an object column of row views or ``d`` float columns:

- ``vectors(frame)`` is O(1) and copy-free: the column's array *is* the block
  (``frame["embedding"].array.block``), whatever the frame's length. An object column
  would need an O(n) Python walk to prove its rows are still one block in order, and
  ``d`` separate columns (1,024 to 4,096 of them) make a frame unreadable and slow.
- Filtering, sorting and slicing a frame give one new contiguous block (``take``),
  never per-row arrays, so every frame derived from an embedding frame keeps the layout.
- It shows as one short column (``[0.012, -0.044, …] ×1024``), and ``to_parquet`` writes a
  FixedSizeList<float32> that ``read_parquet`` turns back into this dtype (the dtype is
  registered with pandas by name, ``vector[float32,1024]``), so float32 survives.

A missing vector (the input was None, NaN or empty) is a row of NaN.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype

_NAME = re.compile(r"^vector\[float32,\s*(\d+)\]$")


@register_extension_dtype
class VectorDtype(ExtensionDtype):
    """The dtype of an embedding column: float32 vectors of one dimension ``dim``."""

    type = np.ndarray
    kind = "O"
    _metadata = ("dim",)

    def __init__(self, dim: int | None = None):
        self.dim = None if dim is None else int(dim)

    @property
    def name(self) -> str:
        return f"vector[float32,{self.dim}]" if self.dim is not None else "vector[float32]"

    @property
    def na_value(self):
        return np.nan

    @classmethod
    def construct_from_string(cls, string):
        if not isinstance(string, str):
            raise TypeError(f"'construct_from_string' expects a string, got {type(string)}")
        if string == "vector[float32]":
            return cls()
        match = _NAME.match(string)
        if match:
            return cls(int(match.group(1)))
        raise TypeError(f"Cannot construct a 'VectorDtype' from '{string}'")

    @classmethod
    def construct_array_type(cls):
        return VectorArray

    def __from_arrow__(self, array):
        """Rebuild the block from a pyarrow (Chunked) FixedSizeList/List of float32 (read_parquet)."""
        import pyarrow as pa

        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        parts = []
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            if chunk.null_count:
                rows = [np.full(self.dim or 0, np.nan, np.float32) if v is None else np.asarray(v, np.float32)
                        for v in chunk.to_pylist()]
                parts.append(np.vstack(rows))
                continue
            flat = chunk.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
            parts.append(flat.reshape(len(chunk), -1))
        dim = self.dim or (parts[0].shape[1] if parts else 0)
        block = np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else np.empty((0, dim), np.float32)
        return VectorArray(np.ascontiguousarray(block, dtype=np.float32))


class VectorArray(ExtensionArray):
    """Rows of one C-contiguous float32 block; ``.block`` is that block (no copy)."""

    def __init__(self, block: np.ndarray):
        block = np.asarray(block)
        if block.ndim != 2 or block.dtype != np.float32:
            raise TypeError(f"a VectorArray needs a 2-D float32 block, not {block.dtype} with shape {block.shape}")
        self._block = block
        self._dtype = VectorDtype(block.shape[1])
        self._norms: np.ndarray | None = None

    @property
    def block(self) -> np.ndarray:
        """The ``(n, d)`` float32 array behind the column (shared, not copied)."""
        return self._block

    def norms(self) -> np.ndarray:
        """Row L2 norms, computed once per array (NaN for missing rows)."""
        if self._norms is None:
            self._norms = np.sqrt(np.einsum("ij,ij->i", self._block, self._block))
        return self._norms

    # --- the ExtensionArray interface -------------------------------------------------
    @classmethod
    def _from_sequence(cls, scalars, *, dtype=None, copy=False):
        if isinstance(scalars, VectorArray):
            return scalars.copy() if copy else scalars
        dim = dtype.dim if isinstance(dtype, VectorDtype) else None
        rows = list(scalars)
        if dim is None:
            dim = next((len(r) for r in rows if r is not None and not _scalar_na(r)), 0)
        block = np.full((len(rows), dim), np.nan, dtype=np.float32)
        for i, row in enumerate(rows):
            if row is not None and not _scalar_na(row):
                block[i] = row
        return cls(block)

    @classmethod
    def _from_factorized(cls, values, original):
        return cls._from_sequence(values, dtype=original.dtype)

    @property
    def dtype(self) -> VectorDtype:
        return self._dtype

    def __len__(self) -> int:
        return self._block.shape[0]

    def __getitem__(self, item):
        if isinstance(item, (int, np.integer)):
            return self._block[item]
        item = pd.api.indexers.check_array_indexer(self, item) if not isinstance(item, slice) else item
        return type(self)(self._block[item])

    def __setitem__(self, key, value) -> None:
        if isinstance(value, VectorArray):
            value = value._block
        self._block[key] = value
        self._norms = None

    def __iter__(self):
        return iter(self._block)

    def __array__(self, dtype=None, copy=None):
        out = np.empty(len(self), dtype=object)
        out[:] = list(self._block)
        return out

    def __arrow_array__(self, type=None):
        import pyarrow as pa

        flat = pa.array(self._block.reshape(-1), type=pa.float32())
        return pa.FixedSizeListArray.from_arrays(flat, self._block.shape[1])

    @property
    def nbytes(self) -> int:
        return self._block.nbytes

    def isna(self) -> np.ndarray:
        if self._block.shape[1] == 0:
            return np.zeros(len(self), dtype=bool)
        return np.isnan(self._block[:, 0])

    def take(self, indices, *, allow_fill=False, fill_value=None):
        indices = np.asarray(indices, dtype=np.intp)
        if allow_fill:
            missing = indices == -1
            if (indices < -1).any():
                raise ValueError("indices for take with allow_fill must be -1 or non-negative")
            out = self._block.take(np.where(missing, 0, indices), axis=0) if len(self) else \
                np.empty((len(indices), self._block.shape[1]), np.float32)
            out[missing] = np.nan if fill_value is None or _scalar_na(fill_value) else fill_value
            return type(self)(out)
        return type(self)(self._block.take(indices, axis=0))

    def copy(self):
        return type(self)(self._block.copy())

    @classmethod
    def _concat_same_type(cls, to_concat):
        return cls(np.concatenate([a._block for a in to_concat]))

    def __eq__(self, other):
        if isinstance(other, VectorArray) and len(other) == len(self):
            return (self._block == other._block).all(axis=1)
        return np.zeros(len(self), dtype=bool)

    def _values_for_factorize(self):
        return np.array([row.tobytes() for row in self._block], dtype=object), b""

    def _formatter(self, boxed: bool = False):
        def show(row):
            if not isinstance(row, np.ndarray):
                return str(row)
            if row.size and np.isnan(row[0]):
                return "NaN"
            head = ", ".join(f"{x:.3f}" for x in row[:3])
            return f"[{head}, …] ×{row.size}"

        return show


def _scalar_na(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA
