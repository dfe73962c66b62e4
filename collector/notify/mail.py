"""E-mail alerts for managers: an SMTP sender and the rules that decide what is worth an e-mail.

Rules, on the conditions of :mod:`collector.notify.conditions`:

* an agent offline or stale for ``alert_offline_min`` minutes **of opening hours** (a Pi that dies
  on Friday evening is reported when the hub opens, not at 3 a.m.);
* no agent of a hub online for ``alert_no_data_min`` minutes of opening hours (one alert for the
  hub instead of one per agent);
* a sensor flagged stuck; the spool above 80 %.

Each alert is one line of an e-mail when it opens and one when it is resolved; alerts that open or
close within ``alert_group_s`` of each other share an e-mail, and at most one e-mail goes out per
``alert_min_interval_s`` (what comes in between waits for the next).  An alert resolved before its
e-mail went out is dropped together with it.  What was sent is kept in the outbox file, so a restart
neither repeats an alert nor forgets to resolve it.  With ``alert_digest_at`` a morning digest lists
the open alerts and yesterday's utilisation of each hub.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from collector.engine.hours import opening_seconds
from collector.notify.conditions import Open, kind
from collector.notify.mailtext import TEXTS, Notice, alert_mail, line, percent
from collector.notify.outbox import Outbox
from hubsense.config import Hub

log = logging.getLogger(__name__)
SENT_KEY = "mail.sent:"  # + condition key: its alert e-mail went out
DIGEST_KEY = "mail.digest"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str | None = None
    password: str | None = None
    tls_ca: Path | None = None
    sender: str = "hubsense@localhost"
    timeout_s: float = 30.0


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def _context(self) -> ssl.SSLContext:
        ca = self.config.tls_ca
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    def send(self, to: list[str], subject: str, body: str) -> None:
        """Send one plain-text e-mail; raises smtplib.SMTPException or OSError."""
        c = self.config
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = c.sender, ", ".join(to), subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=c.sender.rpartition("@")[2] or "hubsense")
        msg.set_content(body)
        smtp: smtplib.SMTP
        if c.security == "tls":
            smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_s, context=self._context())
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
        with smtp:
            if c.security == "starttls":
                smtp.starttls(context=self._context())  # raises if the server does not offer it
            if c.username:
                smtp.login(c.username, c.password or "")
            smtp.send_message(msg)


@dataclass(frozen=True)
class AlertRules:
    offline_s: float = 15 * 60  # of opening hours
    no_data_s: float = 30 * 60  # of opening hours
    group_s: float = 60.0
    min_interval_s: float = 600.0
    digest_at: dtime | None = None


class EmailAlerts:
    def __init__(self, sender: SmtpSender, to: list[str], hubs: dict[str, Hub], outbox: Outbox,
                 rules: AlertRules, lang: str = "sv", digest: Callable[[float], list[str]] | None = None,
                 tz_hub: str | None = None) -> None:
        self.sender = sender
        self.to = to
        self.hubs = hubs
        self.outbox = outbox
        self.rules = rules
        self.lang = lang
        self.digest_lines = digest  # utilisation lines for the digest (the monitor supplies them)
        self.home = hubs[tz_hub] if tz_hub in hubs else next(iter(hubs.values()))
        self.names = {h.id: h.name for h in hubs.values()}
        self.queue: dict[str, Notice] = {}  # key + state -> notice waiting for the next e-mail
        self.sent: set[str] | None = None
        self.last_sent = float("-inf")
        self.last_failure = float("-inf")

    def _load(self) -> set[str]:
        if self.sent is None:
            self.sent = {k[len(SENT_KEY):] for k in self.outbox.conditions() if k.startswith(SENT_KEY)}
        return self.sent

    # -- rules ---------------------------------------------------------------------------------

    def _due(self, key: str, since: float, data: dict, now: float, open_: Open) -> bool:
        k = kind(key)
        hub = self.hubs.get(data.get("hub", ""))
        if k == "agent.offline":
            silent = f"hub.no_data:{data['hub']}"
            if silent in open_ and self._due(silent, open_[silent][0], open_[silent][1], now, open_):
                return False  # the hub's alert says it
            return hub is not None and opening_seconds(hub, since, now) >= self.rules.offline_s
        if k == "hub.no_data":
            return hub is not None and opening_seconds(hub, since, now) >= self.rules.no_data_s
        return k in ("sensor.stuck", "spool.high")

    def update(self, open_: Open, closed: Open, now: float) -> None:
        """After each monitor round: queue what opened (and is due) or closed, then send if it is time."""
        sent = self._load()
        for key, (since, data) in open_.items():
            if key not in sent and key + "/opened" not in self.queue and self._due(key, since, data, now, open_):
                self.queue[key + "/opened"] = Notice("opened", key, since, data, now)
        for key, (since, data) in closed.items():
            unsent = self.queue.pop(key + "/opened", None)  # resolved before its e-mail went: drop both
            if unsent is None and key in sent:
                self.queue[key + "/resolved"] = Notice("resolved", key, since, data, now)
        self.flush(now)
        self.digest(now, open_)

    def flush(self, now: float) -> bool:
        """Send the queued notices as one e-mail if the oldest waited ``group_s`` and the last e-mail
        is ``min_interval_s`` ago.  True if one went out."""
        if not self.queue:
            return False
        oldest = min(n.at for n in self.queue.values())
        retry_at = self.last_failure + max(self.rules.group_s, 30.0)
        if now < oldest + self.rules.group_s or now < self.last_sent + self.rules.min_interval_s or now < retry_at:
            return False
        notices = sorted(self.queue.values(), key=lambda n: (n.at, n.state != "opened", n.key))
        subject, body = alert_mail(notices, self.lang, self.names, self.home.tz)
        try:
            self.sender.send(self.to, subject, body)
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.last_failure = now
            log.warning("alert e-mail to %s failed (%s); %d alerts wait for the next try", self.to, exc, len(notices))
            return False
        self.last_sent = now
        self.queue.clear()
        opened = {SENT_KEY + n.key: (n.at, {}) for n in notices if n.state == "opened"}
        resolved = [SENT_KEY + n.key for n in notices if n.state == "resolved"]
        self.outbox.set_conditions(opened, resolved)
        sent = self._load()
        sent.update(n.key for n in notices if n.state == "opened")
        sent.difference_update(n.key for n in notices if n.state == "resolved")
        log.info("alert e-mail sent to %s: %s", self.to, subject)
        return True

    # -- morning digest ------------------------------------------------------------------------

    def digest(self, now: float, open_: Open) -> bool:
        at = self.rules.digest_at
        if at is None:
            return False
        local = datetime.fromtimestamp(now, self.home.tz)
        last = self.outbox.conditions().get(DIGEST_KEY, (0, {}))[1].get("date")
        if local.time() < at or last == local.date().isoformat():
            return False
        words = TEXTS[self.lang]
        yesterday = (local.date() - timedelta(days=1)).isoformat()
        alerts = [line(Notice("opened", k, since, data, now), self.lang, self.names, self.home.tz)
                  for k, (since, data) in sorted(open_.items(), key=lambda kv: kv[1][0])
                  if kind(k) in ("agent.offline", "hub.no_data", "sensor.stuck", "spool.high")]
        parts = [words["digest_open"], *alerts] if alerts else [words["digest_none"]]
        if self.digest_lines is not None:
            parts += ["", words["digest_util"].format(date=yesterday), *self.digest_lines(now)]
        subject = words["digest_subject"].format(date=local.date().isoformat())
        try:
            self.sender.send(self.to, subject, "\n".join([*parts, "", "-- ", words["footer"]]) + "\n")
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            log.warning("morning digest to %s failed (%s); will retry", self.to, exc)
            return False
        self.outbox.set_conditions({DIGEST_KEY: (now, {"date": local.date().isoformat()})}, [])
        return True


def utilisation_lines(summaries: list[dict], hub_names: dict[str, str], lang: str) -> list[str]:
    """Digest lines from ``summary.daily`` data (one per hub)."""
    words = TEXTS[lang]
    out = []
    for s in summaries:
        known = [z for z in s["zones"] if z["data_quality"] is not None]
        quality = (sum(z["known_s"] for z in known) / sum(z["open_s"] for z in known)) if known else None
        out.append(words["digest_hub"].format(hub_name=hub_names.get(s["hub"], s["hub"]),
                                              util=percent(s["utilisation"], lang), quality=percent(quality, lang)))
    return out
