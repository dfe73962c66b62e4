"""The manager page's webhooks panel in Debian's Chromium: create a subscription to a real receiver,
see its secret once, send a test event and read the delivery log, pause and delete it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.collector.notify.receiver import Receiver
from tests.support import RunningCollector, collector_settings, running_collector, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hooked(broker, tmp_path_factory) -> Iterator[RunningCollector]:
    settings = collector_settings(broker, tmp_path_factory.mktemp("hooks"), webhook_private_networks=["127.0.0.0/8"],
                                  webhook_backoff_s=0.05, webhook_backoff_max_s=0.2)
    with running_collector(settings) as running:
        yield running


def test_create_test_event_log_pause_delete(page, hooked: RunningCollector) -> None:
    receiver = Receiver().start()
    try:
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{hooked.url}/manager?hub=stockholm&lang=en")
        panel = page.locator("#webhooks")
        expect(panel.locator("h2")).to_have_text("Webhooks")
        expect(panel).to_contain_text("No webhooks yet.")
        panel.locator("input[name=url]").fill(receiver.url)
        panel.locator("input[value=spool]").check()
        panel.get_by_role("button", name="Create webhook").click()
        secret = panel.locator(".secret code")
        expect(secret).to_contain_text("whsec_")
        receiver.secret = secret.text_content()
        row = panel.locator("tr[data-webhook]")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Zone free / occupied, Agent offline / back, Spool above 80 %")
        row.get_by_role("button", name="Send test event").click()
        log_row = panel.locator(".delivery-log tr[data-delivery]")
        expect(log_row).to_have_attribute("data-status", "delivered", timeout=10_000)
        expect(log_row).to_contain_text("ping")
        got = wait_for(receiver.accepted, timeout=5)
        assert got[0].signed and got[0].type == "ping"
        row.get_by_role("button", name="Pause").click()
        expect(row).to_contain_text("paused")
        row.get_by_role("button", name="Delete").click()
        expect(panel).to_contain_text("No webhooks yet.")
    finally:
        receiver.stop()


def test_a_refused_target_is_explained(page, hooked: RunningCollector) -> None:
    page.goto(f"{hooked.url}/manager?hub=stockholm&lang=en")
    panel = page.locator("#webhooks")
    panel.locator("input[name=url]").fill("http://169.254.169.254/latest/meta-data/")
    panel.get_by_role("button", name="Create webhook").click()
    expect(panel.locator(".error")).to_contain_text("169.254.169.254 is a link-local address")
