"""The words of alert e-mails, in Swedish and English (plain text, times in the hub's time zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from collector.notify.conditions import kind

TEXTS = {
    "sv": {
        "subject_one": "[hubsense] {what}",
        "subject_many": "[hubsense] {n} larm och åtgärder: {what} …",
        "opened": "LARM",
        "resolved": "ÅTGÄRDAT",
        "agent.offline": "Agenten {agent_name} ({agent}) i {hub_name} svarar inte ({reason}) sedan {since}. "
                         "Zoner utan data: {zones}.",
        "agent.offline.resolved": "Agenten {agent_name} ({agent}) i {hub_name} är tillbaka {at} "
                                  "(borta sedan {since}).",
        "hub.no_data": "Ingen data från {hub_name}: ingen av agenterna ({agents}) är online sedan {since}.",
        "hub.no_data.resolved": "{hub_name} skickar data igen sedan {at} (tyst sedan {since}).",
        "sensor.stuck": "Sensorn {sensor} (zon {zone}, agent {agent}) i {hub_name} verkar ha fastnat sedan {since}.",
        "sensor.stuck.resolved": "Sensorn {sensor} (zon {zone}) i {hub_name} fungerar igen sedan {at}.",
        "spool.high": "Bufferten för InfluxDB är {fill} full ({depth} av {max} poster) sedan {since}: databasen "
                      "tar inte emot skrivningar.",
        "spool.high.resolved": "Bufferten för InfluxDB är under 80 % igen sedan {at}.",
        "reason.offline": "offline",
        "reason.stale": "inga hjärtslag",
        "footer": "Skickat av hubsense. Larm skickas en gång per händelse och en gång när det är åtgärdat; "
                  "sensorhälsan finns under Förvaltare → Sensorer och agenter.",
        "digest_subject": "[hubsense] Morgonrapport {date}",
        "digest_open": "Öppna larm:",
        "digest_none": "Inga öppna larm: allt fungerar.",
        "digest_util": "Beläggning i går ({date}):",
        "digest_hub": "  {hub_name}: {util} av öppettiden (datakvalitet {quality})",
        "no_value": "ingen data",
    },
    "en": {
        "subject_one": "[hubsense] {what}",
        "subject_many": "[hubsense] {n} alerts and resolutions: {what} …",
        "opened": "ALERT",
        "resolved": "RESOLVED",
        "agent.offline": "Agent {agent_name} ({agent}) in {hub_name} is not responding ({reason}) since {since}. "
                         "Zones without data: {zones}.",
        "agent.offline.resolved": "Agent {agent_name} ({agent}) in {hub_name} is back at {at} (gone since {since}).",
        "hub.no_data": "No data from {hub_name}: none of its agents ({agents}) has been online since {since}.",
        "hub.no_data.resolved": "{hub_name} is sending data again since {at} (silent since {since}).",
        "sensor.stuck": "Sensor {sensor} (zone {zone}, agent {agent}) in {hub_name} seems stuck since {since}.",
        "sensor.stuck.resolved": "Sensor {sensor} (zone {zone}) in {hub_name} works again since {at}.",
        "spool.high": "The InfluxDB spool is {fill} full ({depth} of {max} records) since {since}: the database "
                      "is not taking writes.",
        "spool.high.resolved": "The InfluxDB spool is below 80 % again since {at}.",
        "reason.offline": "offline",
        "reason.stale": "no heartbeats",
        "footer": "Sent by hubsense. Each alert is sent once when it opens and once when it is resolved; sensor "
                  "health is on the manager page under Sensors and agents.",
        "digest_subject": "[hubsense] Morning report {date}",
        "digest_open": "Open alerts:",
        "digest_none": "No open alerts: everything works.",
        "digest_util": "Utilisation yesterday ({date}):",
        "digest_hub": "  {hub_name}: {util} of opening hours (data quality {quality})",
        "no_value": "no data",
    },
}


@dataclass(frozen=True)
class Notice:
    """One line of an alert e-mail: a condition that opened (and matured) or was resolved."""

    state: str  # "opened" | "resolved"
    key: str
    since: float
    data: dict
    at: float


def _local(t: float | str | None, tz: ZoneInfo) -> str:
    if t is None:
        return "?"
    moment = datetime.fromisoformat(t.replace("Z", "+00:00")) if isinstance(t, str) else datetime.fromtimestamp(t, UTC)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def percent(value: float | None, lang: str) -> str:
    if value is None:
        return TEXTS[lang]["no_value"]
    return f"{round(value * 100)} %"


def line(notice: Notice, lang: str, hub_names: dict[str, str], tz: ZoneInfo) -> str:
    words = TEXTS[lang]
    d = notice.data
    template = words[kind(notice.key) + (".resolved" if notice.state == "resolved" else "")]
    values = {k: v for k, v in d.items() if isinstance(v, str | int | float)}
    values |= {
        "hub_name": hub_names.get(d.get("hub", ""), d.get("hub", "")),
        "since": _local(notice.since, tz), "at": _local(notice.at, tz),
        "zones": ", ".join(d.get("zones", [])) or "-", "agents": ", ".join(d.get("agents", [])) or "-",
        "reason": words.get(f"reason.{d.get('reason')}", d.get("reason", "")),
        "fill": percent(d["depth"] / max(1, d["max"]), lang) if "depth" in d else "",
    }
    return f"{words[notice.state]}: {template.format(**values)}"


def alert_mail(notices: list[Notice], lang: str, hub_names: dict[str, str], tz: ZoneInfo) -> tuple[str, str]:
    """(subject, body) of one grouped alert e-mail."""
    words = TEXTS[lang]
    lines = [line(n, lang, hub_names, tz) for n in notices]
    first = lines[0]
    subject = (words["subject_one"].format(what=first) if len(lines) == 1
               else words["subject_many"].format(n=len(lines), what=first))
    if len(subject) > 150:
        subject = subject[:147] + "…"
    return subject, "\n\n".join([*lines, "-- ", words["footer"]]) + "\n"
