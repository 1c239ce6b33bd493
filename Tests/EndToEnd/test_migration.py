"""Streams the Lambda deployment made, served by livestreamd on the same table and account.

The state is built the way the old handlers built it (their boto3 calls and item shape,
restated here from the old deployment's `create_stream` and `medialive_config.json`),
then livestreamd runs against it on the extended AWS emulator.
"""
import datetime
import json
import time
import uuid

import pytest
import requests

from aws_emulator_fixture import BUCKET, ROLE_ARN, SECURITY_GROUP
from conftest import emulated_aws_stack
from contract import check
from moto_fixture import TABLE
from support.waiting import eventually

pytestmark = pytest.mark.migration
LEGACY_CLEANUP_ID = uuid.uuid4().hex


@pytest.fixture(scope="module")
def old(tmp_path_factory):
    """livestreamd with DynamoDB storage and MediaLive media on the emulator that also holds the old deployment's state."""
    def create_table(emulator):
        emulator.create_table()
        # An earlier livestreamd kept its cleanup journal as one item of the shared table.
        leftover = {"id": LEGACY_CLEANUP_ID, "owner": "medialive", "stream_id": uuid.uuid4().hex, "created_at": 1, "attempts": 0,
                    "work": [{"kind": "package_channel", "id": "gone-long-ago"}]}
        emulator.resource("dynamodb").Table(TABLE).put_item(
            Item={"id": "livestreamd_cleanups", f"cleanup_{LEGACY_CLEANUP_ID}": json.dumps(leftover)})

    yield from emulated_aws_stack(tmp_path_factory, prepare=create_table,
                                  livestream_storage_backend="dynamodb", livestream_storage_dynamodb_table=TABLE)


def old_archive_root(stream_id):
    now = datetime.datetime.now()
    return f"s3://{BUCKET}/{now:%Y/%m/%d}/{stream_id}-{int(now.timestamp())}/"


def old_channel_settings(ingest, ssm_names, vod_root):
    """The old deployment's channel: destinations `MediaPackage` then `Archive`, one output group for each."""
    video = {"Name": "video_720", "Width": 1280, "Height": 720, "CodecSettings": {"H264Settings": {"Bitrate": 3000000}}}
    audio = {"Name": "audio_1", "AudioSelectorName": "default", "CodecSettings": {"AacSettings": {"Bitrate": 96000}}}
    return {
        "Destinations": [
            {"Id": "MediaPackage", "Settings": [
                {"Url": ingest[0]["Url"], "Username": ingest[0]["Username"], "PasswordParam": ssm_names[0]},
                {"Url": ingest[1]["Url"], "Username": ingest[1]["Username"], "PasswordParam": ssm_names[1]}]},
            {"Id": "Archive", "Settings": [{"Url": vod_root + "_1"}, {"Url": vod_root + "_2"}]},
        ],
        "EncoderSettings": {
            "TimecodeConfig": {"Source": "EMBEDDED"},
            "VideoDescriptions": [video],
            "AudioDescriptions": [audio],
            "OutputGroups": [
                {"Name": "MediaPackage", "OutputGroupSettings": {"HlsGroupSettings": {"Destination": {"DestinationRefId": "MediaPackage"}}},
                 "Outputs": [{"OutputName": "720p", "VideoDescriptionName": "video_720", "AudioDescriptionNames": ["audio_1"],
                              "OutputSettings": {"HlsOutputSettings": {"NameModifier": "_720p", "HlsSettings": {"StandardHlsSettings": {
                                  "M3u8Settings": {}}}}}}]},
                {"Name": "Archive", "OutputGroupSettings": {"ArchiveGroupSettings": {
                    "Destination": {"DestinationRefId": "Archive"}, "RolloverInterval": 300}},
                 "Outputs": [{"OutputName": "archive", "VideoDescriptionName": "video_720", "AudioDescriptionNames": ["audio_1"],
                              "OutputSettings": {"ArchiveOutputSettings": {"NameModifier": "$dt$", "Extension": "ts",
                                                                           "ContainerSettings": {"M2tsSettings": {}}}}}]},
            ],
        },
        "InputSpecification": {"Codec": "AVC", "Resolution": "HD", "MaximumBitrate": "MAX_20_MBPS"},
        "LogLevel": "DISABLED",
        "ChannelClass": "STANDARD",
    }


def create_like_the_old_deployment(emulator, name, description="made by the Lambda deployment", segment_length=300):
    """The old `create_stream`: packager channel and endpoint (id = stream id), SSM passwords, input, channel, item."""
    mediapackage, medialive, ssm = (emulator.client(s) for s in ("mediapackage", "medialive", "ssm"))
    stream_id, passkey = uuid.uuid4().hex, uuid.uuid4().hex
    ingest = mediapackage.create_channel(Id=stream_id, Description=description)["HlsIngest"]["IngestEndpoints"]
    endpoint = mediapackage.create_origin_endpoint(
        Id=stream_id, Description=description, ChannelId=stream_id, ManifestName="index", StartoverWindowSeconds=43200,
        # The old handler wrote "event" and "original"; the emulator checks botocore's enums, spelt in capitals.
        HlsPackage={"SegmentDurationSeconds": 6, "PlaylistWindowSeconds": 60, "PlaylistType": "EVENT", "AdMarkers": "SCTE35_ENHANCED",
                    "IncludeIframeOnlyStream": True, "UseAudioRenditionGroup": False, "StreamSelection": {"StreamOrder": "ORIGINAL"}})
    ssm_names = [f"/Medialive_api/{e['Username']}" for e in ingest]
    for name_, e in zip(ssm_names, ingest):
        ssm.put_parameter(Name=name_, Value=e["Password"], Description=name_, Type="SecureString", Overwrite=True)
    created_input = medialive.create_input(
        Name=name, Type="RTMP_PUSH", Destinations=[{"StreamName": f"app/{passkey}"}, {"StreamName": f"app/{passkey}"}],
        InputSecurityGroups=[SECURITY_GROUP])["Input"]
    settings = old_channel_settings(ingest, ssm_names, old_archive_root(stream_id))
    settings["EncoderSettings"]["OutputGroups"][1]["OutputGroupSettings"]["ArchiveGroupSettings"]["RolloverInterval"] = segment_length
    channel = medialive.create_channel(
        Name=name, RoleArn=ROLE_ARN, InputAttachments=[{"InputId": created_input["Id"], "InputAttachmentName": name}],
        Tags={}, **settings)["Channel"]
    viewer = endpoint["Url"]
    item = {
        "name": name, "description": description, "segment_length": segment_length,
        "id": stream_id, "rtmp1": created_input["Destinations"][0]["Url"], "rtmp2": created_input["Destinations"][1]["Url"],
        "rtmp_ivs": "", "ivs_viewer_endpoint": "", "ecs_asg_count": 0,
        "viewer_endpoint": viewer, "viewer_endpoint_cloudfront": viewer.replace(viewer.split("/")[2], "live.example.com"),
        "last_update": str(int(time.time())), "last_started": None, "last_stopped": None, "started": False,
        "live_channel_id": channel["Id"], "live_input_id": created_input["Id"], "package_endpoint_id": endpoint["Id"],
        "package_channel_id": stream_id, "current_session_id": None, "archives_path": {}, "ssm_paths": ssm_names,
        "cloudfront_associated": False, "key_rotation_interval": 60, "startover_window_seconds": 43200,
    }
    emulator.resource("dynamodb").Table(TABLE).put_item(Item=item)
    return item


def test_start_on_an_old_channel_records_into_the_new_session_folder(old):
    item = create_like_the_old_deployment(old.emulator, "old channel")
    medialive = old.emulator.client("medialive")
    before = medialive.describe_channel(ChannelId=item["live_channel_id"])
    started = check(requests.post(old.url(f"/streams/{item['id']}/start")))
    root = started["archives_path"][started["current_session_id"]]
    channel = medialive.describe_channel(ChannelId=item["live_channel_id"])
    destinations = {d["Id"]: d["Settings"] for d in channel["Destinations"]}
    assert sorted(destinations) == ["Archive", "MediaPackage"], "no destination of our own naming was added"
    tls = root.replace("s3://", "s3ssl://", 1)
    assert [s["Url"] for s in destinations["Archive"]] == [tls + "_1", tls + "_2"]
    assert destinations["MediaPackage"] == {d["Id"]: d["Settings"] for d in before["Destinations"]}["MediaPackage"]
    # The old channel makes no thumbnails and start leaves its encoder settings alone: no picture, not an error.
    assert channel["EncoderSettings"] == before["EncoderSettings"] and "ThumbnailConfiguration" not in channel["EncoderSettings"]
    eventually(lambda: medialive.describe_channel(ChannelId=item["live_channel_id"])["State"] == "RUNNING", what="the old channel running")
    missing = requests.get(old.url(f"/streams/{item['id']}/thumbnail"))
    assert check(missing)["code"] == "no_thumbnail" and missing.status_code == 404
    check(requests.post(old.url(f"/streams/{item['id']}/stop")))


def test_old_items_of_every_shape_are_served_and_can_be_deleted(old):
    table = old.emulator.resource("dynamodb").Table(TABLE)
    # What the old `DELETE /streams/{id}/live` wrote for an id it did not know: a phantom item.
    table.put_item(Item={"id": "phantom stream", "cloudfront_associated": False})
    odd_id = uuid.uuid4().hex
    table.put_item(Item={"id": odd_id, "name": 42, "started": "false", "segment_length": "120", "archives_path": "none",
                         "ssm_paths": ["/Medialive_api/a", 5], "last_update": "1700000000"})
    listed = {r["id"]: r for r in check(requests.get(old.url("/streams")))}
    assert "phantom stream" in listed and odd_id in listed and "livestreamd_cleanups" not in listed
    odd = check(requests.get(old.url(f"/streams/{odd_id}")))
    assert odd["started"] is False and odd["segment_length"] == 120 and odd["name"] == "42"
    assert odd["archives_path"] == {} and odd["ssm_paths"] == ["/Medialive_api/a"]
    assert sorted(p.split(":")[0] for p in odd["problems"]) == ["archives_path", "ssm_paths"]
    phantom = check(requests.get(old.url("/streams/phantom%20stream")))
    assert phantom["id"] == "phantom stream" and "problems" not in phantom
    for _ in range(3):
        check(requests.get(old.url("/streams")))
    warnings = [line for line in old.service_log.read_text().splitlines() if "cannot be read" in line and odd_id in line]
    assert len(warnings) == 1, warnings
    check(requests.delete(old.url("/streams/phantom%20stream")))
    check(requests.delete(old.url(f"/streams/{odd_id}")))
    assert requests.get(old.url("/streams/phantom%20stream")).status_code == 404
    # The service's own bookkeeping is not a stream, whatever the table holds.
    assert requests.get(old.url("/streams/livestreamd_cleanups")).status_code == 400


def test_the_old_handlers_scan_of_the_shared_table_sees_only_streams(old):
    item = create_like_the_old_deployment(old.emulator, "to delete")
    check(requests.delete(old.url(f"/streams/{item['id']}")))  # journals its teardown
    # The old `GET /streams`: table.scan(), every item shown as a stream.
    scanned = old.emulator.resource("dynamodb").Table(TABLE).scan()["Items"]
    assert all("cleanup" not in key for i in scanned for key in i), scanned
    assert "livestreamd_cleanups" not in {i["id"] for i in scanned}, "the earlier journal item was moved out"
    for i in scanned:
        assert requests.get(old.url(f"/streams/{requests.utils.quote(i['id'], safe='')}")).status_code == 200
    journal = old.emulator.client("dynamodb").describe_table(TableName=TABLE + "-livestreamd-cleanups")["Table"]
    assert journal["TableStatus"] == "ACTIVE"
    assert "moved the pending cleanups out of the streams table" in old.service_log.read_text()


# The old deployment's Postman collection, request by request (method, path, raw body), as Postman sends them.
POSTMAN_COLLECTION = [
    ("GET", "/streams", None),
    ("GET", "/streams/{id}", None),
    ("POST", "/streams", '{\n\t"name": "my_stream",\n\t"description": "Live Stream with MediaLive"\n}'),
    ("POST", "/streams/{id}", None),
    ("POST", "/streams/{id}/start", None),
    ("POST", "/streams/{id}/live", None),
    ("POST", "/streams/{id}/stop", None),
    ("DELETE", "/streams/{id}", None),
]


def test_the_old_postman_collection_runs_in_order(old):
    stream_id = create_like_the_old_deployment(old.emulator, "postman")["id"]
    created = None
    for method, path, body in POSTMAN_COLLECTION:
        answer = requests.request(method, old.url(path.replace("{id}", stream_id)), data=body)
        assert 200 <= answer.status_code < 300, (method, path, answer.status_code, answer.text)
        if path == "/streams" and method == "POST":
            created = check(answer)
    assert requests.get(old.url(f"/streams/{stream_id}")).status_code == 404
    check(requests.delete(old.url(f"/streams/{created['id']}")))
