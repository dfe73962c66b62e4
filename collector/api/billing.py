"""Billing routes (managers): the monthly statement per organisation as JSON or CSV, and the printable
statement page of one organisation.

The statement is computed on request from the booking calendars (attributed to organisations at import,
:mod:`collector.bookings.organisations`) and the stored zone state changes and door events, as observed
now: nothing after now is billed.  The rules are in :mod:`collector.billing.policy` (docs/bookings.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import HTMLResponse

from collector.api.access import MANAGER
from collector.api.formats import csv_response
from collector.api.models import BillingLine, BillingReport
from collector.api.params import (
    DIALECT,
    MONTH,
    Dialect,
    Format,
    get_hub,
    get_settings,
    get_sources,
    get_store,
    month_period,
    unknown_id,
)
from collector.api.security import GuardedRoute
from collector.billing.html import statement_html
from collector.billing.load import load_statement
from collector.billing.statement import MonthStatement, OrganisationStatement
from collector.bookings.sources import CalendarSources, CalendarUnavailable
from collector.settings import Settings
from collector.store.base import Store
from hubsense.config import UNASSIGNED, Hub

router = APIRouter(dependencies=[MANAGER], route_class=GuardedRoute)
STYLESHEET = "/static/statement.css"
ORGANISATION = Query(None, description="Only this organisation (id; 'unassigned' for bookings that matched none).")


@router.get("/api/hubs/{hub}/billing", response_model=BillingReport,
            summary="Monthly statement per organisation: every booking's booked and sensed minutes, overrun, "
                    "no-show and billable amount")
def get_billing(
    month: str = MONTH, organisation: str | None = ORGANISATION,
    format: Format = Query("json", description="json, or csv (one row per booking)."), dialect: Dialect = DIALECT,
    hub: Hub = Depends(get_hub), store: Store = Depends(get_store), settings: Settings = Depends(get_settings),
    sources: CalendarSources = Depends(get_sources),
) -> Response | BillingReport:
    statement = _statement(hub, month, store, sources, settings)
    orgs = [_organisation(hub, statement, organisation)] if organisation else statement.organisations
    report = BillingReport.build(hub, statement, orgs)
    if format == "csv":
        rows = [line.model_dump() for org in report.organisations for line in org.lines]
        name = f"{hub.id}-billing-{statement.month}" + (f"-{organisation}" if organisation else "")
        return csv_response(rows, list(BillingLine.model_fields), name, dialect, hub.tz)
    return report


@router.get("/api/hubs/{hub}/billing/statement", response_class=HTMLResponse,
            summary="The printable statement of one organisation for a month (HTML; the browser prints it to PDF)")
def get_statement(
    month: str = MONTH,
    organisation: str = Query(..., description="Organisation id ('unassigned' for bookings that matched none)."),
    lang: Literal["sv", "en"] = Query("sv", description="Language of the page: sv or en."),
    hub: Hub = Depends(get_hub), store: Store = Depends(get_store), settings: Settings = Depends(get_settings),
    sources: CalendarSources = Depends(get_sources),
) -> HTMLResponse:
    statement = _statement(hub, month, store, sources, settings)
    org = _organisation(hub, statement, organisation)
    html = statement_html(hub, statement, org, datetime.now(UTC), lang, stylesheet=STYLESHEET)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _statement(hub: Hub, value: str, store: Store, sources: CalendarSources, settings: Settings) -> MonthStatement:
    month_period(hub, value)  # 400 for a bad month
    try:
        return load_statement(store, sources, hub, value, datetime.now(UTC), settings.bookings_grace_min)
    except CalendarUnavailable as exc:
        raise HTTPException(502, str(exc)) from None


def _organisation(hub: Hub, statement: MonthStatement, org_id: str) -> OrganisationStatement:
    """One organisation's part (an empty one for 'unassigned' without such bookings), or 404."""
    org_id = org_id.lower()
    try:
        return statement.organisation(org_id)
    except KeyError:
        if org_id == UNASSIGNED:
            return OrganisationStatement(UNASSIGNED, "Ej tilldelade / unassigned")
        raise HTTPException(404, unknown_id("organisation", org_id, [o.id for o in hub.organisations] + [UNASSIGNED],
                                            f" in hub {hub.id!r}")) from None
