"""Datasets for frontends: MNIST pixels by index, and previews of the 2D datasets."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Literal

import numpy as np
from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field, ValidationError

from api.auth import AUTH_RESPONSES, require_key
from api.deps import SettingsDep
from api.errors import invalid
from api.models import DatasetPublic, Message
from engine.datasets import dataset_payload, load_dataset
from engine.experiment import DatasetSpec
from engine.mnist import IMAGE_SHAPE, images, load_mnist
from engine.vocabulary import DATASETS_2D, DATASETS_IMAGE
from store.codec import dumps

router = APIRouter(
    prefix="/v1/datasets",
    tags=["datasets"],
    dependencies=[Depends(require_key)],
    responses=AUTH_RESPONSES,
)

MAX_IMAGES = 1000  # ten 10x10 grids per request; 784 kB of pixels
# ASCII digits only (str.isdigit takes "²"), and few enough that no int overflows numpy's
INDEX = re.compile(r"-?[0-9]{1,9}")
# what the schema promises any split accepts: up to MAX_IMAGES indices of 0..9999
INDICES_PATTERN = rf"^(0|[1-9][0-9]{{0,3}})(,(0|[1-9][0-9]{{0,3}})){{0,{MAX_IMAGES - 1}}}$"
IMMUTABLE = "public, max-age=86400"  # the same query always gives the same bytes


class ImagesPublic(BaseModel):
    split: Literal["test", "train"]
    indices: list[int]
    labels: list[int] = Field(description="the digit of each image")
    shape: list[int] = Field(description="[28, 28]: rows, columns of one image")
    dtype: Literal["uint8"]
    pixels: str = Field(
        description="base64 of len(indices) * 784 bytes: image after image, row-major, 0..255"
    )


def parse_indices(text: str) -> list[int]:
    """``"1, 2,3"`` -> [1, 2, 3], or a 422 naming the bad part."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise invalid(("query", "indices"), "give image indices, e.g. indices=0,1,2")
    if len(parts) > MAX_IMAGES:
        raise invalid(("query", "indices"), f"{len(parts)} indices; at most {MAX_IMAGES}")
    bad = next((part for part in parts if not INDEX.fullmatch(part)), None)
    if bad is not None:
        raise invalid(("query", "indices"), f"{bad[:20]!r} is not an image index")
    return [int(part) for part in parts]


@router.get("/mnist/images", operation_id="getMnistImages", response_model=ImagesPublic)
async def read_mnist_images(
    settings: SettingsDep,
    indices: Annotated[
        str,
        Query(
            # in the schema only: the server also takes spaces, empty parts and train indices
            json_schema_extra={"pattern": INDICES_PATTERN},
            description=f"comma-separated, at most {MAX_IMAGES}: 0..9999 (the test split; "
            "the train split takes up to 59999 too)",
        ),
    ],
    split: Literal["test", "train"] = "test",
) -> Response:
    """MNIST images as raw uint8 pixels (base64), by their index in the split.

    ``predictions.indices`` in a job's records are these indices.
    """
    index = parse_indices(indices)
    try:
        pixels = await to_thread.run_sync(images, index, split, settings.mnist_dir)
    except IndexError as exc:
        raise invalid(("query", "indices"), str(exc)) from None
    labels = load_mnist(split, settings.mnist_dir)[1][np.asarray(index, dtype=np.int64)]
    body = {
        "split": split,
        "indices": index,
        "labels": labels.tolist(),
        "shape": list(IMAGE_SHAPE),
        "dtype": "uint8",
        "pixels": base64.b64encode(pixels.tobytes()).decode("ascii"),
    }
    headers = {"Cache-Control": IMMUTABLE}
    return Response(dumps(body), media_type="application/json", headers=headers)


@router.get(
    "/{name}",
    operation_id="previewDataset",
    response_model=DatasetPublic,
    responses={404: {"model": Message, "description": "no such dataset"}},
)
async def preview_dataset(
    name: Literal[DATASETS_2D],  # type: ignore[valid-type]
    n_samples: int = 100,
    noise: float = 0.0,
    seed: int = 0,
    test_fraction: float = 0.0,
    dtype: Literal["float32", "float64"] = "float32",
) -> Response:
    """The points a 2D dataset spec gives: equal to a job's ``/dataset`` for the same fields
    and ``model.dtype``."""
    if name in DATASETS_IMAGE:
        reason = f"{name} is an image dataset: read its pixels at /v1/datasets/{name}/images"
        raise invalid(("path", "name"), reason)
    if name not in DATASETS_2D:
        raise HTTPException(404, f"no dataset {name!r}; known: {', '.join(DATASETS_2D)}")
    fields = {"n_samples": n_samples, "noise": noise, "seed": seed, "test_fraction": test_fraction}
    try:
        spec = DatasetSpec.model_validate({"name": name, **fields})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = str(error["loc"][0]) if error["loc"] else next(iter(fields))
        raise invalid(("query", field), error["msg"]) from None
    if spec.n_samples - round(spec.n_samples * spec.test_fraction) < 1:
        raise invalid(("query", "test_fraction"), "leaves no training samples")
    data = await to_thread.run_sync(lambda: load_dataset(spec, dtype=np.dtype(dtype)))
    return Response(dumps(dataset_payload(data)), media_type="application/json")
