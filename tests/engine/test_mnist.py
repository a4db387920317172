"""MNIST: the packaged zarr store, the IDX reader, and load_dataset's image path."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.datasets import load_dataset
from engine.experiment import DatasetSpec
from engine.mnist import images, load_mnist, read_idx

TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> Path:
    """Write a uint8 array as an IDX file (type 0x08, big-endian dims)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)
    return path


@pytest.fixture
def idx_dir(tmp_path: Path) -> tuple[Path, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A directory of the four IDX files: 5 train and 3 test random images, two gzipped."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, prefix, n in (("train", "train", 5), ("test", "t10k", 3)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", x, gz=split == "train")
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", y, gz=split == "test")
        arrays[split] = (x, y)
    return tmp_path, arrays


def test_packaged_test_split_has_the_standard_shape_and_class_counts():
    x, y = load_mnist("test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == TEST_COUNTS
    assert y[:10].tolist() == FIRST_TEST_LABELS
    assert x.max() == 255 and x.min() == 0


def test_packaged_train_split_has_sixty_thousand_images():
    x, y = load_mnist("train")
    assert x.shape == (60000, 28, 28) and y.shape == (60000,)
    assert np.bincount(y, minlength=10).sum() == 60000


def test_loads_are_cached_and_read_only():
    x, y = load_mnist()
    again, _ = load_mnist("test", None)
    assert again is x
    assert not x.flags.writeable and not y.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        x[0, 0, 0] = 1


def test_reading_the_store_does_not_import_pureml():
    code = (
        "import sys; from engine.mnist import load_mnist; load_mnist();"
        "print(any(m.startswith('pureml') for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_images_returns_the_requested_rows():
    x, _ = load_mnist()
    picked = images([3, 0, 9999])
    assert picked.shape == (3, 28, 28) and picked.dtype == np.uint8
    np.testing.assert_array_equal(picked, x[[3, 0, 9999]])
    assert images([]).shape == (0, 28, 28)


@pytest.mark.parametrize("index", [-1, 10000])
def test_images_rejects_out_of_range_indices(index):
    with pytest.raises(IndexError, match=r"outside 0\.\.9999"):
        images([0, index])


def test_load_dataset_mnist_defaults_to_first_test_images_in_order():
    data = load_dataset(DatasetSpec(name="mnist"))
    x, _ = load_mnist("test")
    assert data.x_train.shape == (100, 784) and data.x_train.dtype == np.float32
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    np.testing.assert_allclose(data.x_train, x[:100].reshape(100, 784) / 255.0, rtol=1e-6)
    assert data.y_train.dtype == np.int64 and data.y_train[:10].tolist() == FIRST_TEST_LABELS
    assert data.x_test.shape == (0, 784) and data.y_test.shape == (0,)
    assert data.kind == "image" and data.n_classes == 10
    np.testing.assert_array_equal(data.source_index_train, np.arange(100))


def test_load_dataset_mnist_holds_out_the_last_images():
    data = load_dataset(DatasetSpec(name="mnist", n_samples=1000, test_fraction=0.2))
    _, y = load_mnist("test")
    assert data.x_train.shape == (800, 784) and data.x_test.shape == (200, 784)
    np.testing.assert_array_equal(data.source_index_test, np.arange(800, 1000))
    np.testing.assert_array_equal(data.y_test, y[800:1000])


def test_load_dataset_reads_the_requested_split(idx_dir):
    directory, arrays = idx_dir
    spec = DatasetSpec(name="mnist", n_samples=4, split="train")
    data = load_dataset(spec, dtype=np.float64, mnist_dir=str(directory))
    x, y = arrays["train"]
    np.testing.assert_array_equal(data.x_train, x[:4].reshape(4, 784) / 255.0)
    np.testing.assert_array_equal(data.y_train, y[:4])
    with pytest.raises(ValueError, match="has 3 images"):
        load_dataset(DatasetSpec(name="mnist", n_samples=4), mnist_dir=str(directory))


@pytest.mark.parametrize("split", ["train", "test"])
def test_idx_directory_round_trips(idx_dir, split):
    directory, arrays = idx_dir
    x, y = load_mnist(split, source=directory)
    np.testing.assert_array_equal(x, arrays[split][0])
    np.testing.assert_array_equal(y, arrays[split][1])
    assert x.dtype == np.uint8 and not x.flags.writeable
    assert load_mnist(split, source=str(directory))[0] is x  # str and Path share the cache


def test_read_idx_handles_other_dtypes_and_shapes(tmp_path):
    values = np.array([[1, -2, 3], [70000, 5, -6]], dtype=">i4")
    path = tmp_path / "ints"
    path.write_bytes(struct.pack(">BBBBII", 0, 0, 0x0C, 2, 2, 3) + values.tobytes())
    out = read_idx(path)
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda raw: b"\x01\x02" + raw[2:], "bad IDX magic"),
        (lambda raw: b"\x08" + raw[1:], "bad IDX magic"),
        (lambda raw: raw[:2] + b"\x07" + raw[3:], "unknown IDX data type"),
        (lambda raw: raw[:-10], "truncated IDX data"),
        (lambda raw: raw[:6], "truncated IDX header"),
        (lambda raw: raw + b"\x00", "trailing bytes"),
        (lambda raw: b"", "bad IDX magic"),
        (lambda raw: gzip.compress(raw)[:-8], "gzip"),
    ],
)
def test_malformed_idx_raises_value_error(tmp_path, mangle, message):
    path = write_idx(tmp_path / "images", np.zeros((2, 28, 28), np.uint8))
    path.write_bytes(mangle(path.read_bytes()))
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_missing_sources_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_mnist("test", source=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist("test", source=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"missing\.idx"):
        read_idx(tmp_path / "missing.idx")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="must be a directory"):
        load_mnist("test", source=tmp_path / "file")


def test_idx_with_wrong_image_size_or_count_is_rejected(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"labels must be uint8 \(2,\)"):
        load_mnist("test", source=tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 8, 8), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"images must be uint8 \(N, 28, 28\)"):
        load_mnist("train", source=tmp_path)


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="split"):
        load_mnist("valid")  # type: ignore[arg-type]
