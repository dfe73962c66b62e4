"""systemd service notifications (``sd_notify``) without libsystemd.

With ``Type=notify`` and ``WatchdogSec=`` in the unit, systemd sets
``$NOTIFY_SOCKET`` (an AF_UNIX datagram socket; a leading ``@`` means the
abstract namespace) and ``$WATCHDOG_USEC``.  The agent sends ``READY=1`` once
its sensors are open, ``WATCHDOG=1`` from its network loop (so a hung loop gets
the service restarted), and ``STOPPING=1`` on a clean stop.  Outside systemd
every call is a cheap no-op.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    """Sends notifications to ``$NOTIFY_SOCKET``; ``enabled`` is False outside systemd."""

    def __init__(self, address: str | None = None, watchdog_usec: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = watchdog_usec if watchdog_usec is not None else os.environ.get("WATCHDOG_USEC", "")
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 else None
        self._last_ping = float("-inf")

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, *fields: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; False if not under systemd or the send failed."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self.address)
                sock.sendall("\n".join(fields).encode())
        except OSError:
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self, now: float | None = None) -> bool:
        """Ping the watchdog, at most every quarter of ``WatchdogSec`` (callable from a tight loop)."""
        if not self.address:
            return False
        now = time.monotonic() if now is None else now
        every = self.watchdog_s / 4 if self.watchdog_s else 1.0
        if now - self._last_ping < every:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")


_default: Notifier | None = None


def notifier() -> Notifier:
    """The process-wide notifier, reading the environment once."""
    global _default
    if _default is None:
        _default = Notifier()
    return _default


def sd_notify(*fields: str) -> bool:
    """``sd_notify("READY=1")``: send to ``$NOTIFY_SOCKET`` if set."""
    return notifier().notify(*fields)
