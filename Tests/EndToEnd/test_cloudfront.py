"""The cloudfront CDN plugin: concurrent edits of one shared distribution from two livestreamd processes.

The emulator stores the distribution config verbatim, enforces If-Match and issues
a new ETag on every update, as CloudFront does (Tests/AWSEmulator/aws_emulator.py).
"""
import threading

import pytest
import requests

from aws_emulator_fixture import DISTRIBUTION_CONFIG, Emulator
from contract import check
from stack import Stack


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """Two full stacks (nginx + livestreamd) sharing one file store and one distribution."""
    emulator = Emulator()
    distribution = emulator.create_distribution()
    shared = tmp_path_factory.mktemp("shared-streams")
    env = {k: v for k, v in emulator.env().items() if k.startswith(("LIVESTREAM_AWS", "AWS_"))}
    # A quota of 25 origins (CloudFront's default is 100) keeps the full-distribution test short.
    env.update(emulator.cdn_env(distribution), LIVESTREAM_STORAGE_FILE_DIRECTORY=str(shared), LIVESTREAM_CDN_CLOUDFRONT_MAX_ORIGINS="25")
    stacks = [Stack(tmp_path_factory.mktemp(f"process{n}"), extra_env=env).start() for n in (1, 2)]
    yield emulator, distribution, stacks
    codes = [s.stop()[0] for s in stacks]
    emulator.stop()
    assert codes == [0, 0]


def all_at_once(calls):
    """Runs the calls on threads released together; returns their responses in order."""
    results = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(index):
        gate.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_an_associate_and_dissociate_round_trip_leaves_the_config_byte_for_byte(two):
    emulator, distribution, (a, _) = two
    record = check(requests.post(a.url("/streams"), json={"name": "round-trip"}))
    assert emulator.distribution_config(distribution) == DISTRIBUTION_CONFIG
    on = check(requests.post(a.url(f"/streams/{record['id']}/live")))
    assert on["cloudfront_associated"] is True and on["viewer_endpoint_cloudfront"].startswith("https://live.example.com/hls/")
    edited = emulator.distribution_config(distribution)
    assert edited != DISTRIBUTION_CONFIG
    behaviour = next(b for b in emulator.client("cloudfront").get_distribution_config(Id=distribution)["DistributionConfig"]["CacheBehaviors"]["Items"]
                     if b["TargetOriginId"] == record["id"])
    assert behaviour["ForwardedValues"]["Headers"]["Items"] == ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"], \
        "web players on other domains need MediaPackage's CORS answers (as the old deployment forwarded)"
    for kept in (b"<LambdaFunctionAssociations>", b"<HeaderValue>s&amp;cret</HeaderValue>", b"<Logging>", b"<PriceClass>PriceClass_100",
                 b"<CNAME>live.example.com</CNAME>", b"<Location>FR</Location>"):
        assert kept in edited
    check(requests.delete(a.url(f"/streams/{record['id']}/live")))
    assert emulator.distribution_config(distribution) == DISTRIBUTION_CONFIG
    check(requests.delete(a.url(f"/streams/{record['id']}")))


def test_twenty_streams_from_two_processes_at_once_lose_no_update(two):
    emulator, distribution, stacks = two
    ids = [check(requests.post(stacks[0].url("/streams"), json={"name": f"cdn{n}"}))["id"] for n in range(20)]

    def live(method, n):
        return lambda: requests.request(method, stacks[n % 2].url(f"/streams/{ids[n]}/live"), timeout=120)

    refused_before = requests.get(emulator.endpoint + "/_emulator/cloudfront/stats").json()["precondition_failed"]
    responses = all_at_once([live("POST", n) for n in range(20)])
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses if r.status_code != 200]
    refused = requests.get(emulator.endpoint + "/_emulator/cloudfront/stats").json()["precondition_failed"] - refused_before
    assert refused > 0, "the two processes did collide (and retried)"
    origins, behaviours = emulator.stream_origins(distribution)
    assert origins == {"web", *ids}
    assert sorted(behaviours.values()) == sorted(ids)
    assert all(pattern == f"/hls/{target}/*" for pattern, target in behaviours.items())

    responses = all_at_once([live("DELETE", n) for n in range(20)])
    assert [r.status_code for r in responses] == [200] * 20
    assert emulator.stream_origins(distribution) == ({"web"}, {})
    assert emulator.distribution_config(distribution) == DISTRIBUTION_CONFIG
    for sid in ids:
        check(requests.delete(stacks[0].url(f"/streams/{sid}")))


def test_deleting_a_stream_takes_it_off_and_a_full_distribution_is_a_conflict(two):
    emulator, distribution, (a, b) = two
    ids = [check(requests.post(a.url("/streams"), json={"name": f"full{n}"}))["id"] for n in range(25)]
    for sid in ids[:24]:  # with the site's own origin: 25, the configured quota
        check(requests.post(b.url(f"/streams/{sid}/live")))
    refused = requests.post(a.url(f"/streams/{ids[24]}/live"))
    assert refused.status_code == 409 and refused.json()["code"] == "cdn_limit", refused.text
    assert requests.get(a.url(f"/streams/{ids[24]}")).json()["cloudfront_associated"] is False
    assert ids[24] not in emulator.stream_origins(distribution)[0]

    check(requests.delete(a.url(f"/streams/{ids[0]}")))
    assert ids[0] not in emulator.stream_origins(distribution)[0]
    check(requests.post(a.url(f"/streams/{ids[24]}/live")))
    for sid in ids[1:]:
        check(requests.delete(b.url(f"/streams/{sid}")))
    assert emulator.distribution_config(distribution) == DISTRIBUTION_CONFIG
