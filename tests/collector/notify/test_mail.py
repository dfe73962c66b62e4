"""E-mail alerts against a real SMTP server (aiosmtpd, STARTTLS or TLS, AUTH): the sender, the
rules (opening hours, grouping, the rate limit, resolved, the hub instead of its agents), Swedish
and English, and the morning digest."""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Iterator
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

import pytest

from collector.notify.mail import AlertRules, EmailAlerts, SmtpConfig, SmtpSender
from collector.notify.outbox import Outbox
from hubsense.config import DEFAULT_CONFIG_DIR, Hub
from tests.collector.notify.agent import FakeAgent
from tests.collector.notify.smtpd import PASSWORD, USER, SmtpServer
from tests.security.pki import Pki, make_test_pki
from tests.support import collector_settings, running_collector, wait_for

TO = ["facility@hub.example", "it@hub.example"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def smtpd(pki: Pki) -> Iterator[SmtpServer]:
    server = SmtpServer(pki).start()
    yield server
    server.stop()


def sender(server: SmtpServer, **kw) -> SmtpSender:
    values = dict(host="127.0.0.1", port=server.port, security="starttls", username=USER, password=PASSWORD,
                  tls_ca=server.pki.ca_cert, sender="hubsense@hub.example", timeout_s=5)
    return SmtpSender(SmtpConfig(**(values | kw)))


def test_starttls_with_login(smtpd: SmtpServer) -> None:
    sender(smtpd).send(TO, "Hej åäö", "Rad ett\nRad två\n")
    [mail] = smtpd.received()
    assert mail.user == USER and mail.recipients == TO and mail.sender == "hubsense@hub.example"
    assert mail.subject == "Hej åäö" and mail.body == "Rad ett\nRad två\n"
    assert mail.message["Message-ID"] and mail.message["Date"]


def test_implicit_tls(pki: Pki) -> None:
    server = SmtpServer(pki, implicit_tls=True).start()
    try:
        sender(server, security="tls").send(TO, "TLS", "over TLS from the start\n")
        assert [m.subject for m in server.received()] == ["TLS"]
    finally:
        server.stop()


def test_refusals(smtpd: SmtpServer) -> None:
    with pytest.raises(ssl.SSLError):
        sender(smtpd, tls_ca=smtpd.pki.other_ca_cert).send(TO, "x", "y")  # a server we do not trust
    with pytest.raises(smtplib.SMTPAuthenticationError):
        sender(smtpd, password="wrong").send(TO, "x", "y")
    with pytest.raises(smtplib.SMTPException):
        sender(smtpd, security="none").send(TO, "x", "y")  # the server insists on STARTTLS
    assert smtpd.received() == []


# -- the rules, with the clock passed in ------------------------------------------------------------

def at(text: str) -> float:
    """A Stockholm local time as epoch seconds."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Stockholm")).timestamp()


def offline(hub: str, agent: str, since: float) -> tuple[str, tuple[float, dict]]:
    return (f"agent.offline:{hub}:{agent}", (since, {"hub": hub, "agent": agent, "agent_name": f"Pi {agent}",
                                                     "reason": "stale", "last_seen": None, "zones": ["oasen"]}))


@pytest.fixture
def alerts(smtpd: SmtpServer, tmp_path: Path, hubs: dict[str, Hub]) -> Iterator[EmailAlerts]:
    outbox = Outbox(tmp_path / "notify.sqlite3")
    rules = AlertRules(offline_s=15 * 60, no_data_s=30 * 60, group_s=60, min_interval_s=600)
    yield EmailAlerts(sender(smtpd), TO, hubs, outbox, rules, lang="en", tz_hub="stockholm")
    outbox.close()


def test_an_agent_offline_is_reported_after_15_minutes_of_opening_hours(alerts: EmailAlerts,
                                                                        smtpd: SmtpServer) -> None:
    # Friday 2026-11-27, Stockholm closes 18:00 (see firmware_config/stockholm.toml); dies at 20:00
    since = at("2026-11-27T20:00")
    open_ = dict([offline("stockholm", "sthlm-pi-skog", since)])
    alerts.update(open_, {}, at("2026-11-28T03:00"))  # Saturday night: closed
    assert smtpd.received() == [] and alerts.queue == {}
    hub = alerts.hubs["stockholm"]
    opens = min(a for a, _ in hub.open_spans(at("2026-11-28T03:00"), at("2026-12-01T00:00")))
    alerts.update(open_, {}, opens + 14 * 60)
    assert alerts.queue == {}
    alerts.update(open_, {}, opens + 15 * 60)  # due, but waits group_s for companions
    assert len(alerts.queue) == 1 and smtpd.received() == []
    alerts.update(open_, {}, opens + 15 * 60 + 61)
    [mail] = smtpd.received()
    assert mail.subject.startswith("[hubsense] ALERT: Agent Pi sthlm-pi-skog (sthlm-pi-skog) in")
    assert "no heartbeats" in mail.body and "2026-11-27 20:00" in mail.body
    alerts.update(open_, {}, opens + 3600)  # once per incident
    assert len(smtpd.received()) == 1
    alerts.update({}, open_, opens + 7200)
    alerts.update({}, {}, opens + 7200 + 61)
    assert [m.subject.split(":")[0] for m in smtpd.received()] == ["[hubsense] ALERT", "[hubsense] RESOLVED"]


def test_alerts_together_share_one_mail_and_the_rate_limit_groups_the_rest(alerts: EmailAlerts,
                                                                          smtpd: SmtpServer) -> None:
    t0 = at("2026-11-30T10:00")  # Monday, open
    first = dict([offline("stockholm", "sthlm-pi-skog", t0 - 3600), offline("stockholm", "sthlm-pi-rum", t0 - 3600)])
    alerts.update(first, {}, t0)
    alerts.update(first, {}, t0 + 60)
    [mail] = smtpd.received()
    assert mail.subject.startswith("[hubsense] 2 alerts and resolutions") and mail.body.count("ALERT:") == 2
    more = first | {"sensor.stuck:stockholm:sthlm-pi-entre:lagerelden-pir": (t0 + 100, {
        "hub": "stockholm", "agent": "sthlm-pi-entre", "agent_name": "x", "sensor": "lagerelden-pir",
        "zone": "lagerelden"})}
    alerts.update(more, {}, t0 + 100)
    alerts.update(more, {}, t0 + 300)  # within min_interval_s of the last mail
    assert len(smtpd.received()) == 1
    back = dict([offline("stockholm", "sthlm-pi-rum", t0 - 3600)])
    alerts.update({k: v for k, v in more.items() if k not in back}, back, t0 + 400)
    alerts.update({k: v for k, v in more.items() if k not in back}, {}, t0 + 660)
    second = smtpd.received()[1]
    assert second.body.count("ALERT:") == 1 and second.body.count("RESOLVED:") == 1
    assert "lagerelden-pir" in second.body and "is back" in second.body


def test_an_alert_resolved_before_its_mail_is_never_sent(alerts: EmailAlerts, smtpd: SmtpServer) -> None:
    t0 = at("2026-11-30T10:00")
    open_ = dict([offline("stockholm", "sthlm-pi-skog", t0 - 3600)])
    alerts.update(open_, {}, t0)
    alerts.update({}, open_, t0 + 30)
    alerts.update({}, {}, t0 + 200)
    assert smtpd.received() == [] and alerts.queue == {}


def test_a_silent_hub_is_one_alert_not_one_per_agent(alerts: EmailAlerts, smtpd: SmtpServer,
                                                     stockholm: Hub) -> None:
    t0 = at("2026-11-30T11:00")
    open_ = dict(offline("stockholm", a.id, t0 - 3600) for a in stockholm.agents)
    open_["hub.no_data:stockholm"] = (t0 - 3600, {"hub": "stockholm", "agents": [a.id for a in stockholm.agents]})
    alerts.update(open_, {}, t0)
    alerts.update(open_, {}, t0 + 61)
    [mail] = smtpd.received()
    assert mail.body.count("ALERT:") == 1 and "No data from" in mail.body


def test_swedish_and_a_restart_does_not_repeat(smtpd: SmtpServer, tmp_path: Path, hubs: dict[str, Hub]) -> None:
    rules = AlertRules(group_s=0, min_interval_s=0)
    t0 = at("2026-11-30T10:00")
    open_ = {"spool.high": (t0, {"depth": 850, "max": 1000, "store_available": False})}
    outbox = Outbox(tmp_path / "n.sqlite3")
    EmailAlerts(sender(smtpd), TO, hubs, outbox, rules).update(open_, {}, t0)
    [mail] = smtpd.received()
    assert mail.subject.startswith("[hubsense] LARM: Bufferten för InfluxDB är 85 % full")
    restarted = EmailAlerts(sender(smtpd), TO, hubs, outbox, rules)
    restarted.update(open_, {}, t0 + 10)
    assert len(smtpd.received()) == 1
    restarted.update({}, open_, t0 + 20)
    assert smtpd.received()[1].subject.startswith("[hubsense] ÅTGÄRDAT: Bufferten")
    outbox.close()


def test_morning_digest_once_a_day(smtpd: SmtpServer, tmp_path: Path, hubs: dict[str, Hub]) -> None:
    outbox = Outbox(tmp_path / "n.sqlite3")
    rules = AlertRules(digest_at=dtime(7, 0))
    alerts = EmailAlerts(sender(smtpd), TO, hubs, outbox, rules, lang="en", tz_hub="stockholm",
                         digest=lambda now: ["  Hubsense Stockholm: 41 % of opening hours (data quality 98 %)"])
    alerts.update({}, {}, at("2026-11-30T06:59"))
    assert smtpd.received() == []
    open_ = dict([offline("stockholm", "sthlm-pi-skog", at("2026-11-29T22:00"))])
    alerts.update(open_, {}, at("2026-11-30T07:01"))
    alerts.update(open_, {}, at("2026-11-30T09:00"))
    [digest] = [m for m in smtpd.received() if "Morning report" in m.subject]
    assert digest.subject == "[hubsense] Morning report 2026-11-30"
    assert "Open alerts:" in digest.body and "sthlm-pi-skog" in digest.body and "41 %" in digest.body
    outbox.close()


# -- in the collector ---------------------------------------------------------------------------------

def always_open_config(directory: Path) -> Path:
    """Stockholm, open around the clock (so the test does not depend on the time of day)."""
    text = (DEFAULT_CONFIG_DIR / "stockholm.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[\[opening_hours\]\]\n(?:[^\[\n].*\n)*\n?", "", text)
    first = text.index("[[")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stockholm.toml").write_text(text[:first] + 'opening_hours = "always"\n\n' + text[first:])
    return directory


def test_the_collector_mails_an_agent_that_went_offline_and_its_return(smtpd: SmtpServer, private_broker,
                                                                       tmp_path: Path) -> None:
    settings = collector_settings(
        private_broker, tmp_path, config_paths=[always_open_config(tmp_path / "config")], alerts_check_s=0.1,
        smtp_host="127.0.0.1", smtp_port=smtpd.port, smtp_username=USER, smtp_password=PASSWORD,
        smtp_tls_ca=smtpd.pki.ca_cert, smtp_from="hubsense@hub.example", alert_email_to=TO,
        alert_email_lang="en", alert_offline_min=0.01, alert_group_s=0.3, alert_min_interval_s=0)
    agents = [FakeAgent(private_broker.port, "stockholm", a) for a in ("sthlm-pi-entre", "sthlm-pi-skog")]
    try:
        with running_collector(settings):
            for agent in agents:
                agent.online()
            time.sleep(0.5)
            for agent in agents:
                agent.offline()
            mail = wait_for(smtpd.received, timeout=10)[0]
            assert mail.subject.startswith("[hubsense] 2 alerts") and mail.body.count("ALERT:") == 2
            assert "(offline)" in mail.body and mail.user == USER
            for agent in agents:
                agent.online()
            resolved = wait_for(lambda: smtpd.received()[1:], timeout=10)[0]
            assert resolved.body.count("RESOLVED:") == 2 and "is back" in resolved.body
            time.sleep(0.5)
            assert len(smtpd.received()) == 2
    finally:
        for agent in agents:
            agent.close()
