"""SSRF protection: loopback, private and link-local targets and redirects to another host are
refused unless allowed; every resolved address is checked and the connection pinned to one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collector.notify.http import post
from collector.notify.targets import TargetPolicy, TargetRefused, check
from tests.collector.notify.receiver import Receiver, always

OPEN = TargetPolicy()


def fake_dns(table: dict[str, list[str]]) -> TargetPolicy:
    return TargetPolicy(resolve=lambda host, port: table[host])


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://127.8.9.10:8080/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.5/", "http://192.168.1.20/", "http://172.16.0.1/", "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://localhost/",
])
def test_internal_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="refused unless listed in webhook_private_networks"):
        check(url, OPEN)


def test_a_public_address_is_fine_and_kept_for_the_connection() -> None:
    target = check("https://93.184.215.14:8443/in?x=1", OPEN)
    assert (target.scheme, target.host, target.port, target.path, target.addresses) == (
        "https", "93.184.215.14", 8443, "/in?x=1", ("93.184.215.14",))


def test_every_resolved_address_is_checked() -> None:
    policy = fake_dns({"hooks.example.org": ["93.184.215.14", "10.1.2.3"]})
    with pytest.raises(TargetRefused, match=r"hooks\.example\.org resolves to 10\.1\.2\.3 is a private address"):
        check("https://hooks.example.org/", policy)
    both = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert check("https://hooks.example.org/", fake_dns({"hooks.example.org": both})).addresses == tuple(both)


def test_private_networks_can_be_allowed() -> None:
    policy = TargetPolicy.from_lists([], ["10.1.2.0/24", "127.0.0.1/32"])
    assert check("http://10.1.2.3/hook", policy).addresses == ("10.1.2.3",)
    assert check("http://127.0.0.1:9000/", policy).port == 9000
    with pytest.raises(TargetRefused):
        check("http://10.1.3.1/hook", policy)
    with pytest.raises(ValueError, match="not an IP network: 'ten'"):
        TargetPolicy.from_lists([], ["ten"])


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://93.184.215.14/", "only http and https"), ("file:///etc/passwd", "only http and https"),
    ("//93.184.215.14/", "only http and https"), ("http://user:pw@93.184.215.14/", "credentials"),
    ("http:///nohost", "no valid host"), ("http://93.184.215.14:99999/", "not a valid URL"),
    ("http://" + "a" * 2000 + ".org/", "longer than"),
])
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        check(url, OPEN)


def test_the_allow_list_restricts_targets() -> None:
    policy = TargetPolicy.from_lists(["hooks.example.org", "*.facility.example", "93.184.215.0/24"], [])
    policy = TargetPolicy(policy.allowed_hosts, resolve=lambda host, port: ["93.184.215.14"])
    assert check("https://hooks.example.org/x", policy)
    assert check("https://cleaning.facility.example/x", policy)
    assert check("https://93.184.215.99/x", policy)
    with pytest.raises(TargetRefused, match="not on the allow-list"):
        check("https://evil.example.com/x", policy)


@pytest.fixture
def two_receivers() -> Iterator[tuple[Receiver, Receiver]]:
    a, b = Receiver(), Receiver()
    yield a, b
    a.stop()
    b.stop()


def test_a_redirect_to_another_host_is_refused(two_receivers: tuple[Receiver, Receiver]) -> None:
    source, other = two_receivers
    other.start()
    source.behaviour = lambda r, body, n: (307, 0.0, {"Location": other.url})
    source.start()
    policy = TargetPolicy.from_lists([], ["127.0.0.0/8"])
    result = post(check(source.url, policy), b'{"id": "x", "type": "ping"}', {}, 2, policy)
    assert result.status == 307 and "redirect refused" in result.error and "another host" in result.error
    assert other.requests == 0


def test_a_redirect_to_a_private_address_is_refused(two_receivers: tuple[Receiver, Receiver]) -> None:
    source, _ = two_receivers
    source.behaviour = lambda r, body, n: (302, 0.0, {"Location": "http://10.9.9.9/steal"})
    source.start()
    policy = TargetPolicy.from_lists([], ["127.0.0.1/32"])
    result = post(check(source.url, policy), b'{"id": "x", "type": "ping"}', {}, 2, policy)
    assert "redirect refused" in result.error and "10.9.9.9 is a private address" in result.error


def test_redirects_on_the_same_host_or_to_an_allowed_host_are_followed(two_receivers: tuple[Receiver, Receiver]
                                                                       ) -> None:
    source, other = two_receivers
    other.start()
    source.behaviour = lambda r, body, n: (308, 0.0, {"Location": "/moved"}) if n == 0 else (200, 0.0, {})
    source.start()
    policy = TargetPolicy.from_lists([], ["127.0.0.0/8"])
    assert post(check(source.url, policy), b'{"id": "a", "type": "ping"}', {}, 2, policy).ok
    assert source.requests == 2
    source.behaviour = lambda r, body, n: (307, 0.0, {"Location": other.url.replace("127.0.0.1", "localhost")})
    allowed = TargetPolicy.from_lists(["127.0.0.1", "localhost"], ["127.0.0.0/8", "::1/128"])
    assert post(check(source.url, allowed), b'{"id": "b", "type": "ping"}', {}, 2, allowed).ok
    assert other.requests == 1


def test_the_connection_goes_to_the_checked_address() -> None:
    """DNS rebinding: whatever the name resolves to later, the request goes to the address checked."""
    receiver = Receiver(behaviour=always(204)).start()
    try:
        answers = iter([["127.0.0.1"], ["10.66.66.66"]])  # first the check, then (would be) the connect
        policy = TargetPolicy(private_networks=TargetPolicy.from_lists([], ["127.0.0.1/32"]).private_networks,
                              resolve=lambda host, port: next(answers))
        target = check(f"http://hooks.test:{receiver.port}/hook", policy)
        result = post(target, b'{"id": "p", "type": "ping"}', {}, 2, policy)
        assert result.ok and result.status == 204 and receiver.got[0].headers["Host"] == f"hooks.test:{receiver.port}"
    finally:
        receiver.stop()
