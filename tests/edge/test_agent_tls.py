"""The agent over TLS with a client certificate (certificates made here with ``cryptography``)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense.services import Mosquitto
from tests.edge.conftest import wait_for

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer: str, issuer_key, ca: bool = False, ip: bool = False):
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert, key=None) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _cert("hubsense test CA", ca_key, "hubsense test CA", ca_key, ca=True)
    return {
        "ca": _write(tmp_path / "ca.pem", ca),
        "server": _write(tmp_path / "server.pem", _cert("127.0.0.1", server_key, "hubsense test CA", ca_key,
                                                         ip=True), server_key),
        "client": _write(tmp_path / "client.pem", _cert("sthlm-pi-entre", client_key, "hubsense test CA",
                                                         ca_key), client_key),
    }


def test_agent_connects_over_tls_with_client_certificate(hub, pki, tmp_path) -> None:
    broker = Mosquitto(tmp_path / "tls", listener_config=[
        f"cafile {pki['ca']}", f"certfile {pki['server']}", f"keyfile {pki['server'].with_suffix('.key')}",
        "require_certificate true",
    ]).start()
    pins = MockFactory()
    settings = AgentSettings(broker_port=broker.port, ca_file=pki["ca"], certfile=pki["client"],
                             keyfile=pki["client"].with_suffix(".key"), queue_path=tmp_path / "q.sqlite3")
    agent = Agent(hub, "sthlm-pi-entre", settings, pin_factory=pins).start()
    try:
        assert agent.wait_connected(5), agent.last_error
        pins.pin(17).drive_high()
        assert wait_for(lambda: agent.delivered == 1)
    finally:
        agent.stop()
        broker.stop()
