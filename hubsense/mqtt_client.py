"""The one paho-mqtt client factory, for the agent and the collector: MQTT v5, paho's version-2
callbacks, user name / password and TLS (CA, optional client certificate) set up the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt


def make_client(client_id: str, *, username: str | None = None, password: str | None = None,
                ca_file: Path | None = None, certfile: Path | None = None, keyfile: Path | None = None,
                max_inflight: int = 20, manual_ack: bool = False, client_class: type[mqtt.Client] = mqtt.Client,
                **client_args: Any) -> mqtt.Client:
    """A client that is not connected yet.  TLS is on when ``ca_file`` is given (the broker's CA);
    ``certfile`` / ``keyfile`` add a client certificate.  ``manual_ack``: the caller acknowledges
    each QoS 1 message itself (the collector, after the store commit).  ``client_class`` (a paho
    ``Client`` subclass) and ``client_args``: the collector's MQTT process (collector/mqtt_child.py)."""
    client = client_class(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                          manual_ack=manual_ack, **client_args)
    if username:
        client.username_pw_set(username, password)
    if ca_file:
        client.tls_set(ca_certs=str(ca_file), certfile=str(certfile) if certfile else None,
                       keyfile=str(keyfile) if keyfile else None)
    client.max_inflight_messages_set(max_inflight)
    return client
