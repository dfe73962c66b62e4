"""The printable statement of one organisation for one month: an HTML page the browser prints to PDF.

One renderer for both uses: the API serves it with the dashboard's stylesheet linked
(``GET /api/hubs/{hub}/billing/statement``, shown by the ``/statement`` page), and
``hubsense billing export`` writes it with the stylesheet inlined, so the file stands alone.
Every value is escaped; the page has no script.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Literal
from zoneinfo import ZoneInfo

from collector.billing.policy import Basis, from_ore
from collector.billing.statement import Line, MonthStatement, OrganisationStatement
from hubsense.config import BillingPolicy, Hub, NoShowCharge, Tariff

Lang = Literal["sv", "en"]

TEXT: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Faktureringsunderlag", "hub": "Hubb", "period": "Period", "currency": "Valuta",
        "made": "Framtaget", "organisation": "Organisation", "date": "Datum", "time": "Tid", "room": "Rum",
        "booked": "Bokat (min)", "sensed": "Använt (min)", "overrun": "Överdrag (min)", "no_show": "Uteblev",
        "billed": "Debiterat (min)", "amount": "Belopp", "note": "Anmärkning", "total": "Summa",
        "bookings": "{n} bokningar", "yes": "ja", "no": "–",
        "quality": "Datakvalitet",
        "quality_ok": "Rummens sensorer var kända under alla bokningar.",
        "quality_marked": "{n} bokning(ar) debiterades som bokade eftersom rummets sensorer var okända under "
                          "bokningen (markerade ⚠).",
        "provisional": "{n} bokning(ar) pågår fortfarande och är prissatta som bokade tills vidare.",
        "measured": "Uppmätt till och med {t}.",
        "terms": "Priser och regler", "tariff_line": "{rooms}: {price} per timme, minst {minimum}, avrundas uppåt "
        "till hela {step} min; {policy}; överdrag upp till {grace} min är gratis; uteblivet möte: {no_show}.",
        "policy_booked": "debiteras bokad tid", "policy_used": "debiteras använd tid (inom bokningen plus överdrag)",
        "policy_max": "debiteras det största av bokad och använd tid",
        "no_show_full": "fullt pris", "no_show_share": "{share} % av priset",
        "no_show_none_if_taken": "inget om rummet släpptes och användes av andra, annars fullt pris",
        "note_unknown": "⚠ sensorer okända {m} min: debiterat som bokat",
        "note_provisional": "pågår: preliminärt",
        "note_released": "släppt {t}",
        "note_taken": "släppt {t}, använt av andra {m} min: ingen kostnad",
        "note_early": "började {m} min tidigt (debiteras inte)",
        "note_into_next": "överdrag in i nästa bokning",
        "note_grace": "överdrag inom karenstiden",
        "privacy": "Bokningar tillskrivs organisationer, aldrig personer: hubsense sparar inga namn eller "
                   "e-postadresser. Använd tid mäts med rörelse- och dörrsensorer.",
        "empty": "Inga bokningar under perioden.",
        "unassigned_hint": "Bokningar som inte kunde knytas till en organisation. Lägg till organisationens "
                           "e-postdomän eller kalenderidentitet i hubbens konfiguration.",
    },
    "en": {
        "title": "Billing statement", "hub": "Hub", "period": "Period", "currency": "Currency",
        "made": "Produced", "organisation": "Organisation", "date": "Date", "time": "Time", "room": "Room",
        "booked": "Booked (min)", "sensed": "Used (min)", "overrun": "Overrun (min)", "no_show": "No-show",
        "billed": "Billed (min)", "amount": "Amount", "note": "Note", "total": "Total",
        "bookings": "{n} bookings", "yes": "yes", "no": "–",
        "quality": "Data quality",
        "quality_ok": "The rooms' sensors were known during every booking.",
        "quality_marked": "{n} booking(s) were billed as booked because the room's sensors were unknown during "
                          "the booking (marked ⚠).",
        "provisional": "{n} booking(s) are still running and priced as booked for now.",
        "measured": "Measured up to {t}.",
        "terms": "Prices and rules", "tariff_line": "{rooms}: {price} per hour, at least {minimum}, rounded up to "
        "whole {step} min; {policy}; overruns up to {grace} min are free; no-show: {no_show}.",
        "policy_booked": "the booked time is billed", "policy_used": "the used time is billed (inside the booking "
        "plus overrun)", "policy_max": "the larger of booked and used time is billed",
        "no_show_full": "full price", "no_show_share": "{share} % of the price",
        "no_show_none_if_taken": "nothing if the room was released and used by others, else full price",
        "note_unknown": "⚠ sensors unknown {m} min: billed as booked",
        "note_provisional": "running: provisional",
        "note_released": "released {t}",
        "note_taken": "released {t}, used by others {m} min: no charge",
        "note_early": "started {m} min early (not billed)",
        "note_into_next": "overran into the next booking",
        "note_grace": "overrun within the grace",
        "privacy": "Bookings are attributed to organisations, never to persons: hubsense keeps no names or "
                   "e-mail addresses. Use is measured with motion and door sensors.",
        "empty": "No bookings in the period.",
        "unassigned_hint": "Bookings that matched no organisation. Add the organisation's e-mail domain or "
                           "calendar identifier to the hub's configuration.",
    },
}
MONTHS = {"sv": ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
                 "oktober", "november", "december"],
          "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December"]}


def money(amount: Decimal, currency: str, lang: Lang) -> str:
    """``1234.5`` as '1 234,50 SEK' (sv) or '1,234.50 SEK' (en)."""
    text = f"{amount:,.2f}"
    if lang == "sv":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return f"{text}\u00a0{currency}"


def number(value: float, lang: Lang) -> str:
    text = f"{value:.0f}" if value == round(value) else f"{value:.1f}"
    return text.replace(".", ",") if lang == "sv" else text


def statement_html(hub: Hub, statement: MonthStatement, org: OrganisationStatement, now: datetime,
                   lang: Lang = "sv", stylesheet: str | None = None, css: str = "") -> str:
    """The whole page: ``stylesheet`` is linked (the API), or ``css`` is inlined (an exported file)."""
    tx = TEXT[lang]
    year, month = map(int, statement.month.split("-"))
    period = f"{MONTHS[lang][month - 1]} {year}"
    title = f"{tx['title']} {org.name} {period}"
    style = f'<link rel="stylesheet" href="{escape(stylesheet)}">' if stylesheet else f"<style>{css}</style>"
    return (f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{escape(title)}</title>\n'
            f'{style}\n</head>\n<body class="statement-page">\n'
            f'{statement_article(hub, statement, org, now, lang)}\n</body>\n</html>\n')


def statement_article(hub: Hub, statement: MonthStatement, org: OrganisationStatement, now: datetime,
                      lang: Lang = "sv") -> str:
    tx = TEXT[lang]
    tz = hub.tz
    year, month = map(int, statement.month.split("-"))
    period = f"{MONTHS[lang][month - 1]} {year}"
    facts = [(tx["organisation"], org.name), (tx["hub"], f"{hub.name}, {hub.address}" if hub.address else hub.name),
             (tx["period"], period), (tx["currency"], statement.currency),
             (tx["made"], now.astimezone(tz).strftime("%Y-%m-%d %H:%M"))]
    head = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    parts = [f'<article class="statement" data-organisation="{escape(org.id)}" data-month="{statement.month}">',
             f'<header><h1>{escape(tx["title"])}</h1><p class="statement-org">{escape(org.name)}</p>'
             f'<dl class="statement-facts">{head}</dl></header>']
    if org.id == "unassigned":
        parts.append(f'<p class="statement-hint">{escape(tx["unassigned_hint"])}</p>')
    parts.append(_table(hub, statement, org, lang) if org.lines else f'<p class="statement-empty">{tx["empty"]}</p>')
    parts.append(_quality(statement, org, tz, lang))
    parts.append(_terms(hub, org, lang))
    parts.append(f'<footer><p>{escape(tx["privacy"])}</p></footer></article>')
    return "\n".join(parts)


def _table(hub: Hub, statement: MonthStatement, org: OrganisationStatement, lang: Lang) -> str:
    tx = TEXT[lang]
    heads = ["date", "time", "room", "booked", "sensed", "overrun", "no_show", "billed", "amount", "note"]
    numeric = {"booked", "sensed", "overrun", "billed", "amount"}
    thead = "".join(f'<th scope="col"{" class=num" if h in numeric else ""}>{escape(tx[h])}</th>' for h in heads)
    rows = "\n".join(_row(hub, statement, line, lang) for line in org.lines)
    total = from_ore(org.amount_ore)
    tfoot = (f'<tr class="totals"><th scope="row" colspan="3">{escape(tx["total"])} · '
             f'{escape(tx["bookings"].format(n=org.bookings))}</th>'
             f'<td class="num">{number(org.booked_s / 60, lang)}</td>'
             f'<td class="num">{number(sum(x.facts.sensed_s for x in org.lines) / 60, lang)}</td>'
             f'<td class="num">{number(org.overrun_s / 60, lang)}</td><td>{org.no_shows}</td>'
             f'<td class="num">{sum(x.charge.billed_min for x in org.lines)}</td>'
             f'<td class="num total-amount">{money(total, statement.currency, lang)}</td><td></td></tr>')
    return (f'<table class="statement-lines"><thead><tr>{thead}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n'
            f'<tfoot>{tfoot}</tfoot></table>')


def _row(hub: Hub, statement: MonthStatement, line: Line, lang: Lang) -> str:
    tx = TEXT[lang]
    f, c, b = line.facts, line.charge, line.booking
    start, end = b.start.astimezone(hub.tz), b.end.astimezone(hub.tz)
    classes = [cls for cls, on in (("no-show", f.released), ("marked", c.basis is Basis.SENSORS_UNKNOWN),
                                   ("provisional", c.basis is Basis.PROVISIONAL)) if on]
    cells = [start.strftime("%Y-%m-%d"), f"{start:%H:%M}–{end:%H:%M}", hub.zone(b.zone).name]
    nums = [number(f.booked_s / 60, lang), number(f.sensed_s / 60, lang), number(f.overrun_s / 60, lang)]
    row = "".join(f"<td>{escape(x)}</td>" for x in cells) + "".join(f'<td class="num">{x}</td>' for x in nums)
    row += f'<td>{tx["yes"] if f.released else tx["no"]}</td><td class="num">{c.billed_min}</td>'
    row += f'<td class="num">{money(from_ore(c.amount_ore), statement.currency, lang)}</td>'
    row += f'<td class="note">{escape("; ".join(_notes(line, hub.tz, lang)))}</td>'
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f"<tr{attr}>{row}</tr>"


def _notes(line: Line, tz: ZoneInfo, lang: Lang) -> list[str]:
    tx, f, c = TEXT[lang], line.facts, line.charge
    notes = []
    if c.basis is Basis.SENSORS_UNKNOWN:
        notes.append(tx["note_unknown"].format(m=number(f.unknown_s / 60, lang)))
    if c.basis is Basis.PROVISIONAL:
        notes.append(tx["note_provisional"])
    if f.released_at is not None:
        t = f.released_at.astimezone(tz).strftime("%H:%M")
        notes.append(tx["note_taken"].format(t=t, m=number(f.taken_s / 60, lang)) if c.basis is Basis.NO_SHOW_WAIVED
                     else tx["note_released"].format(t=t))
    if f.early_s > 0:
        notes.append(tx["note_early"].format(m=number(f.early_s / 60, lang)))
    if f.overran_into_next:
        notes.append(tx["note_into_next"])
    elif f.overrun_s > 0 and c.billable_overrun_s == 0:
        notes.append(tx["note_grace"])
    return notes


def _quality(statement: MonthStatement, org: OrganisationStatement, tz: ZoneInfo, lang: Lang) -> str:
    tx = TEXT[lang]
    lines = [tx["quality_marked"].format(n=org.sensors_unknown) if org.sensors_unknown else tx["quality_ok"]]
    if org.provisional:
        lines.append(tx["provisional"].format(n=org.provisional))
    lines.append(tx["measured"].format(t=statement.measured_until.astimezone(tz).strftime("%Y-%m-%d %H:%M")))
    body = "".join(f"<p>{escape(x)}</p>" for x in lines)
    return f'<section class="statement-quality"><h2>{escape(tx["quality"])}</h2>{body}</section>'


def _terms(hub: Hub, org: OrganisationStatement, lang: Lang) -> str:
    tx = TEXT[lang]
    tariffs: dict[str, Tariff] = {line.tariff.id: line.tariff for line in org.lines}
    items = "".join(f"<li>{escape(_tariff_text(hub, t, lang))}</li>" for t in tariffs.values())
    if not items:
        return ""
    return f'<section class="statement-terms"><h2>{escape(tx["terms"])}</h2><ul>{items}</ul></section>'


def _tariff_text(hub: Hub, t: Tariff, lang: Lang) -> str:
    tx, cur = TEXT[lang], hub.billing.currency
    policy = {BillingPolicy.BOOKED: tx["policy_booked"], BillingPolicy.USED: tx["policy_used"],
              BillingPolicy.MAX: tx["policy_max"]}[t.policy]
    no_show = {NoShowCharge.FULL: tx["no_show_full"], NoShowCharge.NONE_IF_TAKEN: tx["no_show_none_if_taken"],
               NoShowCharge.SHARE: tx["no_show_share"].format(share=number(float((t.no_show_share or 0) * 100),
                                                                             lang))}[t.no_show]
    return tx["tariff_line"].format(
        rooms=", ".join(hub.zone(r).name for r in t.rooms), price=money(t.price_per_hour, cur, lang),
        minimum=money(t.minimum_charge, cur, lang), step=t.rounding_min, policy=policy,
        grace=number(t.overrun_grace_min, lang), no_show=no_show)
