"""A program using the client openapi-python-client generates from the served document
(package ``initlab_generated``): ``mypy --strict`` must pass on it, and it runs the whole flow
against a real server. Usage: python generated_sample.py API_URL (PYTHONPATH: the package's)."""

from __future__ import annotations

import sys
import time

from initlab_generated import Client
from initlab_generated.api.catalog import get_catalog, list_presets, predict_variance
from initlab_generated.api.jobs import (
    cancel_job,
    create_job,
    delete_job,
    get_job,
    get_job_parameters,
    list_job_metrics,
)
from initlab_generated.api.plots import get_job_plot
from initlab_generated.api.sweeps import create_sweep, delete_sweep, get_sweep
from initlab_generated.models import (
    Catalog,
    GetJobPlotName,
    InitSpec,
    InitSpecMethod,
    JobCreate,
    JobPublic,
    JobStatus,
    MetricsPublic,
    ParametersPublic,
    PresetName,
    PresetsPublic,
    SpecRequest,
    SweepCreate,
    SweepPublic,
    SweepVary,
    SweepVaryInitMethodItem,
    TrainingSpec,
    VarianceReport,
)
from initlab_generated.types import UNSET

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def job_of(answer: object) -> JobPublic:
    assert isinstance(answer, JobPublic), answer
    return answer


def main(base_url: str) -> None:
    client = Client(base_url=base_url, raise_on_unexpected_status=True)
    spec = JobCreate(
        preset=PresetName.PLAYGROUND,
        init=InitSpec(method=InitSpecMethod.TOO_LARGE),
        training=TrainingSpec(iterations=40),
        force=True,
    )
    job = job_of(create_job.sync(client=client, body=spec))
    while job.status in ACTIVE:
        time.sleep(0.2)
        job = job_of(get_job.sync(job.id, client=client))
    assert job.status == JobStatus.SUCCEEDED and job.summary is not None
    final_cost: float | None = job.summary.final_cost
    assert job.spec.init.method.value == "too_large" and job.spec.training.iterations == 40
    page = list_job_metrics.sync(job.id, client=client, every=10)
    assert isinstance(page, MetricsPublic) and page.next_ is None
    first = page.records[0]
    assert first.iteration == 0 and isinstance(first.cost, float)
    assert first.layers and first.layers[0].activations.std is not None
    snapshot = get_job_parameters.sync(job.id, client=client, iteration=0)
    assert isinstance(snapshot, ParametersPublic) and len(snapshot.layers) == 3
    svg = get_job_plot.sync_detailed(job.id, GetJobPlotName.COST, client=client)
    assert svg.status_code == 200 and svg.content.startswith(b"<?xml")

    catalog = get_catalog.sync(client=client)
    assert isinstance(catalog, Catalog) and "xavier" in [i.name for i in catalog.initializers]
    presets = list_presets.sync(client=client)
    assert isinstance(presets, PresetsPublic)
    assert presets.data[0].spec.model.hidden == [6, 3]
    theory = predict_variance.sync(client=client, body=SpecRequest(preset=PresetName.NINE_LAYERS))
    assert isinstance(theory, VarianceReport) and len(theory.layers) == 10

    methods = [SweepVaryInitMethodItem.ZERO, SweepVaryInitMethodItem.APPROPRIATE]
    body = SweepCreate(
        base=SpecRequest(preset=PresetName.PLAYGROUND, training=TrainingSpec(iterations=20)),
        vary=SweepVary(init_method=methods),
    )
    sweep = create_sweep.sync(client=client, body=body)
    assert isinstance(sweep, SweepPublic) and len(sweep.variations) == 2
    while sweep.status in ("queued", "running"):
        time.sleep(0.2)
        sweep = get_sweep.sync(sweep.id, client=client)
        assert isinstance(sweep, SweepPublic)
    assert delete_sweep.sync_detailed(sweep.id, client=client).status_code == 204

    long = job_of(
        create_job.sync(
            client=client, body=JobCreate(training=TrainingSpec(iterations=100_000), force=True)
        )
    )
    assert job_of(cancel_job.sync(long.id, client=client)).id == long.id
    for made in (job.id, long.id):
        assert delete_job.sync_detailed(made, client=client).status_code == 204
    assert get_job.sync_detailed(job.id, client=client).status_code == 404
    assert spec.dataset is UNSET
    print(f"final cost {final_cost}")


if __name__ == "__main__":
    main(sys.argv[1])
