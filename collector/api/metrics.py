"""``GET /metrics``: Prometheus text exposition of the app's own registry."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from collector.api.access import MANAGER
from collector.metrics import CollectorMetrics

router = APIRouter(dependencies=[MANAGER])


@router.get("/metrics", summary="Prometheus metrics (text exposition format)", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_PLAIN_0_0_4: {}}}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)


def install_metrics(app: FastAPI) -> CollectorMetrics:
    """Create the app's registry, time the ingest's store writes, add ``/metrics``.

    Call after ``app.state`` has ``live``, ``store``, ``ingest`` and ``counters``."""
    state = app.state
    ingest = state.ingest
    m = CollectorMetrics(
        state.live, state.store,
        counters=lambda: state.ingest.counters if state.ingest else state.counters,
        connected=lambda: state.ingest.connected.is_set() if state.ingest else None,
    )
    if ingest is not None and hasattr(ingest, "store_observers"):
        ingest.store_observers.append(m.observe_store_write)
    state.metrics = m
    app.include_router(router, tags=["operations"])
    return m
