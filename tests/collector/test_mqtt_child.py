"""The collector's MQTT process (collector/mqtt_child.py): its lean decoding against paho's own, its
buffered reads, its acknowledgements, and that it ends with the collector.  End to end (a real
broker, real agents, the process killed mid-stream) in tests/reliability/test_faults.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mqtt_child import LeanClient, encode_frame, write_all
from collector.mqtt_link import LinkConfig
from tests.conftest import REPO


def _client(got: list) -> LeanClient:
    return LeanClient(mqtt.CallbackAPIVersion.VERSION2, client_id="t", protocol=mqtt.MQTTv5, manual_ack=True,
                      deliver=lambda *message: got.append(message))


def _body(topic: bytes, payload: bytes, qos: int, mid: int, sub_ids: list[int]) -> bytes:
    """A PUBLISH packet after its fixed header."""
    props = Properties(PacketTypes.PUBLISH)
    if sub_ids:
        props.SubscriptionIdentifier = sub_ids
    packed = props.pack() if sub_ids else b"\x00"
    return len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if qos else b"") + packed + payload


def _packet(topic: bytes, payload: bytes, qos: int = 1, mid: int = 1, retain: bool = False,
            sub_ids: list[int] | None = None) -> bytes:
    body = _body(topic, payload, qos, mid, sub_ids or [])
    length, size = b"", len(body)
    while True:  # the remaining length, a variable-length integer
        byte, size = size % 128, size // 128
        length += bytes([byte | (128 if size else 0)])
        if not size:
            break
    return bytes([0x30 | qos << 1 | int(retain)]) + length + body


def _handled(handle, header: int, body: bytes) -> list:
    got: list = []
    client = _client(got)
    client._in_packet = {"command": header, "packet": bytearray(body)}
    assert handle(client) == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    return got


@settings(max_examples=200, deadline=None)
@given(topic=st.text(min_size=1, max_size=80).map(str.encode), payload=st.binary(max_size=600),
       qos=st.sampled_from([0, 1]), mid=st.integers(1, 65535), retain=st.booleans(),
       sub_ids=st.lists(st.integers(1, 268_435_455), max_size=2))
def test_the_lean_path_delivers_what_paho_decodes(topic: bytes, payload: bytes, qos: int, mid: int, retain: bool,
                                                  sub_ids: list[int]) -> None:
    header = 0x30 | qos << 1 | int(retain)
    body = _body(topic, payload, qos, mid, sub_ids)
    lean = _handled(LeanClient._handle_publish, header, body)
    full = _handled(mqtt.Client._handle_publish, header, body)  # paho's decoder, through on_message
    assert lean == full == [(topic, payload, mid if qos else 0, qos, retain, tuple(sub_ids))]


def test_a_burst_is_read_at_once_and_a_split_packet_is_completed() -> None:
    got: list = []
    client = _client(got)
    ours, broker = socket.socketpair()
    ours.setblocking(False)
    client._sock = ours
    try:
        packets = [_packet(b"hubsense/h/a/event", b"x" * 200, mid=i) for i in range(1, 301)]
        broker.sendall(b"".join(packets))
        time.sleep(0.05)
        client.loop_read()  # paho alone reads one packet per call (and select would not wake for the rest)
        assert [m[2] for m in got] == list(range(1, 301))
        last = _packet(b"hubsense/h/a/event", b"y" * 5000, mid=301)
        broker.sendall(last[:1000])
        time.sleep(0.02)
        client.loop_read()
        assert len(got) == 300
        broker.sendall(last[1000:])
        time.sleep(0.02)
        client.loop_read()
        assert got[-1][:3] == (b"hubsense/h/a/event", b"y" * 5000, 301)
    finally:
        ours.close()
        broker.close()


def test_acknowledgements_go_out_as_one_write() -> None:
    client = _client([])
    ours, broker = socket.socketpair()
    client._sock = ours
    writes: list[bytes] = []
    send = client._sock_send
    client._sock_send = lambda data: writes.append(bytes(data)) or send(data)  # type: ignore[method-assign]
    try:
        client.ack_many([1, 2, 515])
        assert writes == [bytes.fromhex("40020001" "40020002" "40020203")]
        assert broker.recv(100) == writes[0]
    finally:
        ours.close()
        broker.close()


def _spawn(watchdog_s: float = 60.0) -> tuple[subprocess.Popen, int, int]:
    """The MQTT process, pointed at a port nobody listens on (it keeps trying, as after a broker crash)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = LinkConfig(host="127.0.0.1", port=port, client_id="t", username=None, password=None, ca_file=None,
                        certfile=None, keyfile=None, session_expiry_s=60, max_packet_bytes=65536,
                        subscriptions=[(None, [("hubsense/+/+/event", 1)])], watchdog_s=watchdog_s)
    cmd_read, cmd_write = os.pipe()
    evt_read, evt_write = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "collector.mqtt_child", str(cmd_read), str(evt_write)],
                            pass_fds=(cmd_read, evt_write), cwd=REPO)
    os.close(cmd_read)
    os.close(evt_write)
    write_all(cmd_write, encode_frame(("config", {**vars(config), "log_level": "WARNING", "log_json": False})))
    return proc, cmd_write, evt_read


def test_the_process_ends_when_the_collector_is_gone() -> None:
    proc, cmd_write, evt_read = _spawn()
    try:
        time.sleep(0.3)
        assert proc.poll() is None
        os.close(cmd_write)  # what the kernel does when the collector dies, however it dies
        assert proc.wait(10) == 0
    finally:
        os.close(evt_read)
        if proc.poll() is None:
            proc.kill()


def test_the_process_ends_when_the_collector_stops_talking() -> None:
    """A hung or stopped collector: the process drops the connection (the broker then fires the Last Will)."""
    proc, cmd_write, evt_read = _spawn(watchdog_s=0.5)
    try:
        assert proc.wait(10) == 3
    finally:
        os.close(cmd_write)
        os.close(evt_read)
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("module", ["collector.mqtt_child"])
def test_the_process_imports_no_collector_dependencies(module: str) -> None:
    out = subprocess.run([sys.executable, "-c", f"import sys, {module}; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=REPO).stdout.split()
    heavy = {"pydantic", "fastapi", "numpy", "orjson", "uvicorn", "starlette", "collector.ingest"}
    assert not heavy & {m.split(".")[0] for m in out} | (heavy & set(out))
