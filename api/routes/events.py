"""Live records as Server-Sent Events, resumable from ``Last-Event-ID``.

Every viewer of a job in this process shares one feed of its events (api/streams/).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.auth import AUTH_RESPONSES
from api.deps import JobDep, SettingsDep
from api.encodings import negotiate, stream_coder
from api.models import Message
from api.numbers import Count
from api.streams.hub import MB, Hub
from api.streams.viewer import ready_replay, viewer_body
from engine.experiment import MAX_ITERATIONS

router = APIRouter(prefix="/v1/jobs", tags=["events"], responses=AUTH_RESPONSES)

STREAM_DOC = """\
`text/event-stream` of

- `record`: one record (JSON, README "Records"), its `id` the iteration, in order;
- `status`: `{status, progress, iteration}` when the job's status changes (first event too);
- `end`: `{status}` once the job has ended and every record was sent; the stream closes;
- `error`: `{detail}` if the job store became unreachable; reconnect to resume;
- `resume`: `{after, detail}` when this client fell too far behind (it reads more slowly than
  records arrive); the stream closes: reconnect with `Last-Event-ID` (browsers do it by
  themselves) to go on after iteration `after`.

Reconnecting with `Last-Event-ID: N` (browsers do it) or `?last_event_id=N` resumes after
iteration N with no gap and no repeat. The stream is compressed (zstd, br or gzip, each chunk
flushed) when `Accept-Encoding` offers one. Each event's data is the component named in
this response's `x-events`: `Record`, `StatusEvent`, `EndEvent`, `ErrorEvent`."""


@router.get(
    "/{job_id}/events",
    operation_id="streamJobEvents",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": STREAM_DOC},
        404: {"model": Message, "description": "no such job"},
    },
)
async def stream_events(
    request: Request,
    job: JobDep,
    settings: SettingsDep,
    last_event_id_header: Annotated[
        Count | None,
        Header(alias="Last-Event-ID", ge=0, le=MAX_ITERATIONS, description="resume after it"),
    ] = None,
    last_event_id: Annotated[
        Count | None,
        Query(
            ge=0, le=MAX_ITERATIONS, description="as the header, for clients without EventSource"
        ),
    ] = None,
) -> StreamingResponse:
    """Live records of a job as Server-Sent Events."""
    after = last_event_id_header if last_event_id_header is not None else last_event_id
    hub: Hub = request.app.state.hub
    coding = negotiate(request.headers.get("accept-encoding"))
    lag = int(settings.stream_viewer_lag_mb * MB)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Vary": "Accept-Encoding"}
    if coding is not None:
        headers["Content-Encoding"] = coding
    media = "text/event-stream; charset=utf-8"
    ready = ready_replay(hub, job, after, coding)
    if ready is not None:  # one shared copy, sent in slices
        length, parts = ready
        headers["Content-Length"] = str(length)
        return StreamingResponse(parts, media_type=media, headers=headers)
    coder = stream_coder(coding) if coding is not None else None
    return StreamingResponse(
        viewer_body(hub, job, after, lag, coding, coder), media_type=media, headers=headers
    )
