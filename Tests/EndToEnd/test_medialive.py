"""The medialive media plugin and the s3 archive through the whole stack, against the extended AWS emulator."""
import contextlib
import json
import re
import time

import pytest
import requests

from aws_emulator_fixture import BUCKET, PREFIX, ROLE_ARN, SECURITY_GROUP
from contract import check
from conftest import emulated_aws_stack
from support.waiting import eventually


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    yield from emulated_aws_stack(tmp_path_factory)


def pending_cleanups(stack):
    folder = stack.storage_dir / ".cleanups"
    return sorted(p.name for p in folder.glob("*.json")) if folder.exists() else []


def test_create_builds_packager_secrets_input_and_channel(aws):
    record = check(requests.post(aws.url("/streams"), json={"name": "ml", "description": "the ml stream", "segment_length": 10}))
    sid = record["id"]
    ml, mp, ssm = (aws.emulator.client(s) for s in ("medialive", "mediapackage", "ssm"))

    package = mp.describe_channel(Id=record["package_channel_id"])
    ingest = package["HlsIngest"]["IngestEndpoints"]
    assert record["package_channel_id"] == sid and len(ingest) == 2
    assert record["ssm_paths"] == [f"/Medialive_api/{e['Username']}" for e in ingest]
    for endpoint, name in zip(ingest, record["ssm_paths"]):
        parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString" and parameter["Value"] == endpoint["Password"]

    origin = mp.describe_origin_endpoint(Id=record["package_endpoint_id"])
    assert origin["ManifestName"] == "index" and origin["HlsPackage"]["SegmentDurationSeconds"] == 6
    # Named and packaged as the old deployment did: its handlers address the endpoint by stream id,
    # operators find the stream by its name and description in the console.
    assert record["package_endpoint_id"] == sid and origin["Description"] == "the ml stream"
    assert package["Description"] == "the ml stream"
    assert origin["HlsPackage"]["AdMarkers"] == "SCTE35_ENHANCED" and origin["HlsPackage"]["IncludeIframeOnlyStream"] is True
    assert origin["StartoverWindowSeconds"] == 43200
    assert record["viewer_endpoint"] == origin["Url"] == record["viewer_endpoint_cloudfront"]
    assert re.fullmatch(r"https://[^/]+/out/v1/[0-9a-f]+/index\.m3u8", record["viewer_endpoint"])

    created_input = ml.describe_input(InputId=record["live_input_id"])
    assert created_input["Type"] == "RTMP_PUSH" and created_input["SecurityGroups"] == [SECURITY_GROUP]
    assert created_input["Name"] == "ml"
    urls = [d["Url"] for d in created_input["Destinations"]]
    assert [record["rtmp1"], record["rtmp2"]] == urls
    keys = [u.rsplit("/", 1)[1] for u in urls]
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys) and keys[0] != keys[1]
    assert all(re.fullmatch(r"rtmp://[\d.]+:1935/live/[0-9a-f]{32}", u) for u in urls)

    channel = ml.describe_channel(ChannelId=record["live_channel_id"])
    assert channel["RoleArn"] == ROLE_ARN and channel["InputAttachments"][0]["InputId"] == record["live_input_id"]
    assert channel["Name"] == "ml"
    destinations = {d["Id"]: d["Settings"] for d in channel["Destinations"]}
    assert destinations["mediapackage"] == [
        {"Url": e["Url"], "Username": e["Username"], "PasswordParam": n} for e, n in zip(ingest, record["ssm_paths"])]
    assert all(s["Url"].startswith(f"s3ssl://{BUCKET}/{PREFIX}") for s in destinations["archive"]), "MediaLive's TLS scheme"
    groups = {g["Name"]: g for g in channel["EncoderSettings"]["OutputGroups"]}
    archive = groups["archive"]
    assert archive["OutputGroupSettings"]["ArchiveGroupSettings"]["RolloverInterval"] == 10, "rollover = segment_length"
    assert "$dt$" in archive["Outputs"][0]["OutputSettings"]["ArchiveOutputSettings"]["NameModifier"]
    ladder = {d["Name"]: d["Height"] for d in channel["EncoderSettings"]["VideoDescriptions"]}
    heights = sorted(ladder[o["VideoDescriptionName"]] for o in groups["mediapackage"]["Outputs"])
    assert heights == [360, 540, 720, 1080]
    assert groups["mediapackage"]["OutputGroupSettings"]["HlsGroupSettings"]["Destination"]["DestinationRefId"] == "mediapackage"


def test_start_points_the_archive_at_the_session_and_state_follows_the_channel(aws):
    record = check(requests.post(aws.url("/streams"), json={"name": "states"}))
    sid = record["id"]
    ml, mp = aws.emulator.client("medialive"), aws.emulator.client("mediapackage")
    started = check(requests.post(aws.url(f"/streams/{sid}/start"), json={"startover_window_seconds": 600, "key_rotation_interval": 90}))
    root = started["archives_path"][started["current_session_id"]]
    channel = ml.describe_channel(ChannelId=record["live_channel_id"])
    archive = {d["Id"]: d["Settings"] for d in channel["Destinations"]}["archive"]
    tls = root.replace("s3://", "s3ssl://", 1)
    assert [s["Url"] for s in archive] == [tls + "_1", tls + "_2"]
    assert len(channel["EncoderSettings"]["OutputGroups"]) == 2, "the update kept the encoder settings"
    assert mp.describe_origin_endpoint(Id=record["package_endpoint_id"])["StartoverWindowSeconds"] == 600
    assert started["startover_window_seconds"] == 600 and started["key_rotation_interval"] == 90

    # The background refresher records what MediaLive reports.
    eventually(lambda: requests.get(aws.url(f"/streams/{sid}")).json()["state"] == "RUNNING", what="RUNNING")
    assert ml.describe_channel(ChannelId=record["live_channel_id"])["State"] == "RUNNING"
    stopped = check(requests.post(aws.url(f"/streams/{sid}/stop")))
    assert stopped["started"] is False
    eventually(lambda: requests.get(aws.url(f"/streams/{sid}")).json()["state"] == "IDLE", what="IDLE")

    # A channel MediaLive reports busy cannot start: 409, nothing changes.
    ml.start_channel(ChannelId=record["live_channel_id"])
    before = requests.get(aws.url(f"/streams/{sid}")).json()
    refused = requests.post(aws.url(f"/streams/{sid}/start"))
    assert refused.status_code == 409 and refused.json()["code"] == "state_conflict"
    assert "RUNNING" in refused.json()["message"] or "STARTING" in refused.json()["message"]
    assert requests.get(aws.url(f"/streams/{sid}")).json()["current_session_id"] == before["current_session_id"]
    ml.stop_channel(ChannelId=record["live_channel_id"])
    check(requests.delete(aws.url(f"/streams/{sid}")))


def test_delete_of_a_running_stream_removes_everything(aws):
    record = check(requests.post(aws.url("/streams"), json={"name": "doomed"}))
    sid = record["id"]
    check(requests.post(aws.url(f"/streams/{sid}/start")))
    deleted = check(requests.delete(aws.url(f"/streams/{sid}")))
    assert deleted["id"] == sid
    assert requests.get(aws.url(f"/streams/{sid}")).status_code == 404

    ml = aws.emulator.client("medialive")

    def all_gone():
        left = aws.emulator.resources()
        mine = {record["live_channel_id"], record["live_input_id"], record["package_channel_id"], record["package_endpoint_id"], *record["ssm_paths"]}
        return not (mine & set().union(*left.values())) and not pending_cleanups(aws)

    eventually(all_gone, what="the running stream's resources to go")
    assert ml.describe_channel(ChannelId=record["live_channel_id"])["State"] == "DELETED"
    assert ml.describe_input(InputId=record["live_input_id"])["State"] == "DELETED"
    # The input had to wait for its channel: the journal says the teardown went on and when it ended.
    feed = requests.get(aws.url("/events"), params={"limit": 1000}).json()["events"]
    types = [e["type"] for e in feed if e["stream_id"] == sid]
    assert sorted(types[-3:]) == ["cleanup.done", "cleanup.pending", "stream.deleted"] and types.index("cleanup.pending") < types.index("cleanup.done"), types


def test_no_secret_reaches_the_log_or_the_archive_paths(aws):
    record = check(requests.post(aws.url("/streams"), json={"name": "secret"}))
    started = check(requests.post(aws.url(f"/streams/{record['id']}/start")))
    check(requests.post(aws.url(f"/streams/{record['id']}/stop")))
    mp, ssm = aws.emulator.client("mediapackage"), aws.emulator.client("ssm")
    passwords = [ssm.get_parameter(Name=n, WithDecryption=True)["Parameter"]["Value"] for n in record["ssm_paths"]]
    keys = [record["rtmp1"].rsplit("/", 1)[1], record["rtmp2"].rsplit("/", 1)[1]]
    log = aws.service_log.read_text()
    for secret in passwords + keys + ["livestreamd-test-secret"]:
        assert secret not in log
        assert secret not in record["viewer_endpoint"]
        assert all(secret not in root for root in started["archives_path"].values())
    assert mp.describe_channel(Id=record["id"])["HlsIngest"]["IngestEndpoints"][0]["Password"] not in log


def test_split_reads_the_session_from_s3(aws):
    record = check(requests.post(aws.url("/streams"), json={"name": "split", "segment_length": 6}))
    sid = record["id"]
    started = check(requests.post(aws.url(f"/streams/{sid}/start")))
    check(requests.post(aws.url(f"/streams/{sid}/stop")))
    session = started["current_session_id"]
    root = started["archives_path"][session]
    key = root[len(f"s3://{BUCKET}/"):]
    # Each pipeline lost one segment (a tie: pipeline 1 leads); pipeline 2 fills pipeline 1's gap.
    # Named as the shipped template (and the old deployment) names them: `_1` + `$dt$`.
    aws.emulator.seed([f"{key}_120261125T101010.{n:06d}.ts" for n in (0, 1, 3)] + [f"{key}_220261125T101010.{n:06d}.ts" for n in (0, 2, 3)])
    result = check(requests.post(aws.url(f"/streams/{sid}/split"), json={"session_id": session, "timestamp_list": [{"start": 0, "end": 24}], "name_modifier": "s3"}))
    assert result["indexes"] == [f"{key}index_s3_0.m3u8"]
    playlist = aws.emulator.client("s3").get_object(Bucket=BUCKET, Key=result["indexes"][0])["Body"].read().decode()
    uris = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert uris == ["_120261125T101010.000000.ts", "_120261125T101010.000001.ts", "_220261125T101010.000002.ts", "_120261125T101010.000003.ts"]
    assert "#EXT-X-TARGETDURATION:6" in playlist and "#EXT-X-ENDLIST" in playlist
    bad = requests.post(aws.url(f"/streams/{sid}/start"), json={"path": f"s3://{BUCKET}/elsewhere/x"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_path"


def test_split_of_a_24_hour_archive_on_both_pipelines(aws):
    record = check(requests.post(aws.url("/streams"), json={"name": "day", "segment_length": 6}))
    sid = record["id"]
    started = check(requests.post(aws.url(f"/streams/{sid}/start")))
    check(requests.post(aws.url(f"/streams/{sid}/stop")))
    session = started["current_session_id"]
    key = started["archives_path"][session][len(f"s3://{BUCKET}/"):]
    per_pipeline = 24 * 3600 // 6
    aws.emulator.seed([f"{key}_{p}-20261125T000000.{n:06d}.ts" for p in (1, 2) for n in range(per_pipeline)])

    ranges = [{"start": 0, "end": 86400}, {"start": 3600, "end": 7200}, {"start": 100.5, "end": 106.5}, {"start": 86394, "end": 86400}]
    result = check(requests.post(aws.url(f"/streams/{sid}/split"), json={"session_id": session, "timestamp_list": ranges, "name_modifier": "day"}))
    assert result["indexes"] == [f"{key}index_day_{n}.m3u8" for n in range(4)]
    s3 = aws.emulator.client("s3")

    def segments(n):
        text = s3.get_object(Bucket=BUCKET, Key=result["indexes"][n])["Body"].read().decode()
        assert text.startswith("#EXTM3U") and "#EXT-X-TARGETDURATION:6\n" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
        assert "#EXT-X-DISCONTINUITY" not in text, "one pipeline throughout"
        lines = text.splitlines()
        uris = [line for line in lines if line and not line.startswith("#")]
        assert sum(line.startswith("#EXTINF:6") for line in lines) == len(uris)
        return [int(u.rsplit(".", 2)[1]) for u in uris], {u[:2] for u in uris}

    assert segments(0) == (list(range(per_pipeline)), {"_1"})
    assert segments(1) == (list(range(600, 1200)), {"_1"})
    assert segments(2) == ([16, 17], {"_1"})
    assert segments(3) == ([per_pipeline - 1], {"_1"})


def test_names_and_packaging_are_settings_with_the_old_deployment_as_default(tmp_path_factory):
    """The defaults are the old deployment's (test_create_... above); both can be set otherwise."""
    package = tmp_path_factory.mktemp("settings") / "hls-package.json"
    package.write_text(json.dumps({"adMarkers": "NONE", "includeIframeOnlyStream": False, "playlistWindowSeconds": 30}))
    with contextlib.contextmanager(emulated_aws_stack)(tmp_path_factory, livestream_media_medialive_resource_names="id",
                                                       livestream_media_medialive_hls_package=str(package)) as stack:
        record = check(requests.post(stack.url("/streams"), json={"name": "named", "description": "described"}))
        ml, mp = stack.emulator.client("medialive"), stack.emulator.client("mediapackage")
        assert ml.describe_channel(ChannelId=record["live_channel_id"])["Name"] == f"livestreamd-{record['id']}"
        assert ml.describe_input(InputId=record["live_input_id"])["Name"] == f"livestreamd-{record['id']}"
        origin = mp.describe_origin_endpoint(Id=record["package_endpoint_id"])
        assert origin["Description"] == f"livestreamd stream {record['id']}"
        assert origin["HlsPackage"]["AdMarkers"] == "NONE" and origin["HlsPackage"]["IncludeIframeOnlyStream"] is False
        assert origin["HlsPackage"]["PlaylistWindowSeconds"] == 30 and origin["HlsPackage"]["SegmentDurationSeconds"] == 6
        check(requests.delete(stack.url(f"/streams/{record['id']}")))
