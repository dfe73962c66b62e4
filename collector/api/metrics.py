"""``GET /metrics``: Prometheus text exposition of the app's own registry
(:class:`collector.metrics.CollectorMetrics`, built by the composition root)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from collector.api.access import MANAGER
from collector.api.security import GuardedRoute

router = APIRouter(dependencies=[MANAGER], route_class=GuardedRoute)


@router.get("/metrics", summary="Prometheus metrics (text exposition format)", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_PLAIN_0_0_4: {}}}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
