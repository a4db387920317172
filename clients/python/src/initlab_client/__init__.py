"""The official Python client of the initlab API.

from initlab_client import Client
with Client("http://127.0.0.1:8000") as api:
    job = api.wait(api.submit({"preset": "playground"}).id)
    print(job.summary.final_cost)
"""

from initlab_client.async_client import AsyncClient
from initlab_client.client import Client
from initlab_client.errors import (
    ConflictError,
    ForbiddenError,
    InitlabError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServiceUnavailableError,
    StoreFullError,
    UnauthorizedError,
    ValidationError,
)
from initlab_client.models import (
    Catalog,
    Job,
    LayerStats,
    MetricsPage,
    Parameters,
    Preset,
    Record,
    Stat,
    Summary,
    Sweep,
    VarianceReport,
    Variation,
)

__all__ = [
    "AsyncClient",
    "Catalog",
    "Client",
    "ConflictError",
    "ForbiddenError",
    "InitlabError",
    "Job",
    "LayerStats",
    "MetricsPage",
    "NotFoundError",
    "Parameters",
    "PayloadTooLargeError",
    "Preset",
    "RateLimitedError",
    "Record",
    "ServiceUnavailableError",
    "Stat",
    "StoreFullError",
    "Summary",
    "Sweep",
    "UnauthorizedError",
    "ValidationError",
    "VarianceReport",
    "Variation",
]
