"""Take docs/screenshots/{member,kiosk,manager}.png from a real collector with simulated
history and live simulated agents (run by hand, not a test):

    .venv/bin/python scripts/screenshots.py            # write the screenshots
    .venv/bin/python scripts/screenshots.py --serve    # just run it, for a look in a browser

Drives Debian's Chromium through Playwright (never ``playwright install``).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from collector.service import Collector
from collector.settings import Settings
from collector.simulate import simulate_history
from edge.simulate import start_simulated_hubs
from hubsense.services import Mosquitto, free_port, launch_chromium

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"


def settings(work: Path, mqtt_port: int, http_port: int | None) -> Settings:
    return Settings(mqtt_host="127.0.0.1", mqtt_port=mqtt_port, mqtt_client_id=f"hubsense-shots-{free_port()}",
                    sqlite_path=work / "hubsense.sqlite3", spool_path=work / "spool.sqlite3",
                    tokens_path=work / "tokens.json", http_host="127.0.0.1", http_port=http_port or free_port())


def shoot(url: str, hub: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p, ["--lang=sv-SE"])  # date inputs follow the browser's language
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="sv-SE")
        page.goto(f"{url}/?hub={hub}")
        page.wait_for_selector(".card[data-state] .fc-bars, .card[data-state]")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / "member.png"), full_page=True)
        kiosk = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="sv-SE")
        kiosk.goto(f"{url}/kiosk?hub={hub}")
        kiosk.wait_for_selector(".card[data-state]")
        kiosk.wait_for_timeout(1500)
        kiosk.screenshot(path=str(out / "kiosk.png"))
        manager = browser.new_page(viewport={"width": 1280, "height": 900}, locale="sv-SE")
        manager.goto(f"{url}/manager?hub={hub}")
        manager.wait_for_selector("#heatmap .cell")
        manager.wait_for_timeout(800)
        manager.screenshot(path=str(out / "manager.png"), full_page=True)
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub", default="stockholm")
    parser.add_argument("--days", type=int, default=28, help="days of simulated history")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated agents' speed-up")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of live simulation before shooting")
    parser.add_argument("--serve", action="store_true", help="serve until Ctrl-C instead of shooting")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hubsense-shots-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto").start()
        stop = threading.Event()
        try:
            collector = Collector.build(settings(work, broker.port, args.port))
            simulate_history(collector.hubs, collector.store, days=args.days)
            with collector.serving() as running:
                threads = start_simulated_hubs(running.hubs, broker.port, args.speed, stop)
                print(f"dashboard on {running.url}/", flush=True)
                try:
                    if args.serve:
                        while True:
                            time.sleep(1)
                    time.sleep(args.warmup)
                    shoot(running.url, args.hub, args.out)
                    print(f"wrote {args.out}/member.png, kiosk.png, manager.png")
                except KeyboardInterrupt:
                    pass
                finally:
                    stop.set()
                    for t in threads:
                        t.join(10)
        finally:
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
