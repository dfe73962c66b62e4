from __future__ import annotations

import argparse
import fcntl
import io
import os
import select
import struct
import termios

from hubsense.progress import add_progress_argument, progress


def test_no_bar_into_a_pipe_or_file_unless_forced() -> None:
    out = io.StringIO()
    items = [1, 2, 3]
    assert progress(items, stream=out) is items  # StringIO is not a terminal
    assert progress(items, stream=out, enabled=False) is items
    assert list(progress(items, total=3, desc="replay", stream=out, enabled=True)) == items
    assert "replay" in out.getvalue() and "3/3" in out.getvalue()


def _read_all(fd: int) -> str:
    """Everything written to the terminal so far (a pty hands it out in pieces)."""
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        chunks.append(os.read(fd, 4096))
    return b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_a_bar_by_default() -> None:
    master, slave = os.openpty()  # a real pseudo-terminal, 24 x 100 like a terminal window
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        with open(slave, "w", closefd=False) as tty:
            assert list(progress(range(5), total=5, desc="simulate", stream=tty)) == list(range(5))
            tty.flush()
        written = _read_all(master)
    finally:
        os.close(master)
        os.close(slave)
    assert "simulate" in written and "5/5" in written


def test_progress_flag_is_tri_state() -> None:
    parser = argparse.ArgumentParser()
    add_progress_argument(parser)
    assert parser.parse_args([]).progress is None
    assert parser.parse_args(["--progress"]).progress is True
    assert parser.parse_args(["--no-progress"]).progress is False
