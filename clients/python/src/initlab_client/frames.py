"""The optional extras: a pandas DataFrame of records, a tqdm progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from initlab_client.models import Record

SCALARS = ("iteration", "epoch", "cost", "train_accuracy", "test_accuracy")


def row(record: Record) -> dict[str, Any]:
    """A record's numbers, flat: the scalars, then ``activations_std_1``, ... per layer."""
    flat: dict[str, Any] = {name: getattr(record, name) for name in SCALARS}
    for layer in record.layers or []:
        for name in ("activations", "weight_grads", "activation_grads"):
            flat[f"{name}_std_{layer.layer}"] = getattr(layer, name).std
    return flat


def frame(records: list[Record]) -> Any:
    """A DataFrame indexed by iteration."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "records_frame needs pandas: pip install initlab-client[pandas]"
        ) from None
    return pd.DataFrame([row(record) for record in records]).set_index("iteration")


@contextmanager
def progress_bar(show: bool, job_id: str) -> Iterator[Callable[[float], None]]:
    """``bar(progress)`` moves a tqdm bar to ``progress`` (0..1); a no-op unless ``show``."""
    if not show:
        yield lambda _: None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "progress=True needs tqdm: pip install initlab-client[progress]"
        ) from None
    with tqdm(total=1000, desc=f"job {job_id[:8]}", unit="‰") as bar:

        def update(progress: float) -> None:
            bar.update(round(progress * 1000) - bar.n)

        yield update
