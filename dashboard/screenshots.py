"""Take docs/screenshots/{member,kiosk,manager}.png from a real collector with simulated
history and live simulated agents (run by hand, not a test):

    .venv/bin/python -m dashboard.screenshots            # write the screenshots
    .venv/bin/python -m dashboard.screenshots --serve    # just run it, for a look in a browser

Drives Debian's Chromium through Playwright (never ``playwright install``).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from dashboard.devserver import collector_settings, serve_in_thread
from hubsense.services import Mosquitto

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def launch(playwright, extra_args: list[str] | None = None):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                      args=CHROMIUM_ARGS + (extra_args or []))


def start_agents(hubs, port: int, speed: float, stop: threading.Event) -> list[threading.Thread]:
    from edge.simulate import run_simulated_hub

    threads = []
    for i, hub in enumerate(hubs.values()):
        t = threading.Thread(target=run_simulated_hub, args=(hub, "127.0.0.1", port, speed, i + 1, stop),
                             name=f"sim-{hub.id}", daemon=True)
        t.start()
        threads.append(t)
    return threads


def shoot(url: str, hub: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p, ["--lang=sv-SE"])  # date inputs follow the browser's language
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
            extra = {"http_port": args.port} if args.port else {}
            settings = collector_settings(work, broker.port, **extra)
            with serve_in_thread(settings, history_days=args.days) as running:
                threads = start_agents(running.collector.hubs, broker.port, args.speed, stop)
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
