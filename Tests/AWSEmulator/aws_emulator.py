"""moto_server, plus what real AWS returns and moto 5.2 leaves out.

Run: `python3 Tests/AWSEmulator/aws_emulator.py --port N` (or `make aws-emulator PORT=N`);
it listens on 127.0.0.1:N in the foreground, like `moto_server -H 127.0.0.1 -p N`.

Each extension below is a moto gap measured against botocore's service models
(the ground truth for shapes) and AWS's documented behaviour; nothing else changes:

MediaPackage
  * CreateChannel / DescribeChannel / ListChannels return `HlsIngest.IngestEndpoints`:
    two endpoints, each with an id, a WebDAV ingest URL, a username and a password.
  * Origin endpoint `Url` has the real shape `https://<host>/out/v1/<hash>/<manifest>.m3u8`.
  * UpdateOriginEndpoint keeps the fields a request leaves out (moto nulled them).
  * CreateChannel and CreateOriginEndpoint with an id that exists answer 422
    UnprocessableEntityException, as MediaPackage does (moto replaced the resource).
MediaLive
  * CreateInput (RTMP_PUSH) returns each destination's `Url` (`rtmp://<ip>:1935/<StreamName>`),
    `Ip` and `Port`, and keeps the input security groups (moto dropped them).
  * UpdateChannel changes only the fields a request carries (moto wiped EncoderSettings
    and InputAttachments when only Destinations were sent).
  * Unknown channel or input ids answer 404 NotFoundException (moto: 500 HTML).
  * CreateInput and CreateChannel honour `requestId`: a repeated one answers with the
    resource the first request made, as its current description, instead of making another
    (MediaLive's idempotency token; moto ignored it).
  * ListChannels and ListInputs move transitional states on as the Describe calls do
    (moto moves a state on when a resource is described, standing in for time
    passing; listing did not, so a refresher that only lists saw STARTING forever).
  * The state rules the product must respect answer 409 ConflictException as AWS does:
    UpdateChannel and StartChannel need an IDLE channel, DeleteChannel a channel that
    is not running, DeleteInput an input whose channels are all DELETED.
  * ListAlerts (`GET /prod/channels/<id>/alerts`, moto has no alerts): answers the alerts a
    test set with `POST /_emulator/medialive/alerts` `{"channel_id": ..., "alerts": [{"pipelineId":
    "0", "alertType": ..., "message": ..., "state": "SET"}]}` (ids and timestamps added),
    filtered by `stateFilter`, in botocore's ChannelAlert shape; 404 for an unknown channel.
  * DescribeThumbnails (`GET /prod/channels/<id>/thumbnails`, moto has none): as MediaLive
    documents it, `{"thumbnailDetails": []}` for a channel whose encoder settings leave
    `thumbnailConfiguration` off, 400 BadRequestException for one that is not RUNNING, else
    the asked pipeline's picture (`thumbnail.jpg` beside this file, a 64x36 test pattern,
    base64) with `contentType` image/jpeg, `thumbnailType` CURRENT_ACTIVE and `timeStamp`.
CloudFront
  * Distribution configs are stored verbatim (moto re-renders them from its partial
    model, dropping elements such as Lambda associations or custom headers).
    GetDistributionConfig returns the stored bytes and an ETag; UpdateDistribution
    requires `If-Match`, answers 412 PreconditionFailed when it is not the current
    ETag, and issues a new ETag on every update, as CloudFront does. An update is
    checked as CloudFront checks it: the body against botocore's DistributionConfig
    shape, every Quantity against its Items (InconsistentQuantities), unique origin
    ids, cache behaviours aimed at existing origins (NoSuchOrigin), and the default
    quotas of 100 origins and 75 cache behaviours (TooManyOrigins, TooManyCacheBehaviors;
    CloudFront's documented defaults).
    `POST /_emulator/cloudfront/distributions` with a DistributionConfig XML body
    creates one (test data: it answers `{"id": ...}`); `GET
    /_emulator/cloudfront/distributions/<id>` returns the stored bytes, and
    `GET /_emulator/cloudfront/stats` how many updates were refused by If-Match.
STS
  * AssumeRoleWithWebIdentity is unsigned, as in AWS (it is how a pod without keys gets
    some); real STS knows the call by its host, moto's single server by the signature's
    scope, so an unsigned request naming that action is routed to moto's STS.
DynamoDB
  * Each request runs under one lock, as DynamoDB applies a write to an item atomically
    (moto's threaded server let two `UpdateItem ADD` answer the same number; moto_atomic.py).
Request shapes
  * MediaLive and MediaPackage request bodies are checked against botocore's models
    (`shape_check.py`) and answered 400 BadRequestException when they do not fit:
    real AWS rejects what moto would silently ignore.
Permissions
  * Every AWS call is recorded as "<signing service>:<operation>" (the operation found in
    botocore's model: X-Amz-Target, the query protocol's Action, or the REST route) with
    the access key that signed it; `GET /_emulator/actions?key=AKID` lists those of one
    key, for the test that `livestreamd iam-policy` grants every call livestreamd makes.
Test data
  * `POST /_emulator/s3/objects` with `{"bucket": B, "keys": [...], "body": "..."}` stores
    many objects at once (a 24-hour archive has 28,800), straight into moto's S3 backend.
"""
import argparse
import base64
import hashlib
import io
import json
import os
import re
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.medialive import models as medialive
from moto.mediapackage import models as mediapackage
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moto_atomic import atomic_dynamodb  # noqa: E402
from shape_check import ServiceShapes, xml_problems  # noqa: E402


class NotFound(JsonRESTError):
    code = 404

    def __init__(self, message):
        super().__init__("NotFoundException", message)


class Unprocessable(JsonRESTError):
    code = 422

    def __init__(self, message):
        super().__init__("UnprocessableEntityException", message)


class Conflict(JsonRESTError):
    code = 409

    def __init__(self, message):
        super().__init__("ConflictException", message)


def _digest(*parts, length=12):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


# ---------------------------------------------------------------- MediaPackage

def _ingest_endpoints(channel_id, region):
    endpoints = []
    for n in (1, 2):
        token = _digest("ingest", channel_id, str(n), length=32)
        endpoints.append({
            "id": token[:32],
            "url": f"https://{token[:16]}.mediapackage.{region}.amazonaws.com/in/v2/{_digest(channel_id)}/{token[:32]}/channel",
            "username": token[16:32],
            "password": _digest("password", channel_id, str(n), length=32),
        })
    return endpoints


_mp_create_channel = mediapackage.MediaPackageBackend.create_channel


def _mp_create_channel_with_ingest(self, description, channel_id, tags):
    if channel_id in self._channels:
        raise Unprocessable(f"Channel already exists with id {channel_id}")
    channel = _mp_create_channel(self, description=description, channel_id=channel_id, tags=tags)
    channel.hls_ingest = {"ingestEndpoints": _ingest_endpoints(channel_id, self.region_name)}
    return channel


_mp_channel_to_dict = mediapackage.Channel.to_dict


def _mp_channel_to_dict_with_ingest(self):
    d = _mp_channel_to_dict(self)
    d["hlsIngest"] = getattr(self, "hls_ingest", {"ingestEndpoints": []})
    return d


_mp_create_endpoint = mediapackage.MediaPackageBackend.create_origin_endpoint


def _mp_create_endpoint_with_url(self, **kwargs):
    if kwargs.get("endpoint_id") in self._origin_endpoints:
        raise Unprocessable(f"Origin endpoint already exists with id {kwargs['endpoint_id']}")
    endpoint = _mp_create_endpoint(self, **kwargs)
    host = f"{_digest('host', endpoint.channel_id or '')}.mediapackage.{self.region_name}.amazonaws.com"
    endpoint.url = f"https://{host}/out/v1/{_digest('endpoint', endpoint.id, length=32)}/{endpoint.manifest_name or 'index'}.m3u8"
    return endpoint


_mp_update_endpoint = mediapackage.MediaPackageBackend.update_origin_endpoint


def _mp_update_endpoint_keeping_omitted(self, endpoint_id, **kwargs):
    current = self._origin_endpoints.get(endpoint_id)
    if current is not None:
        for name, value in list(kwargs.items()):
            if value is None:
                kwargs[name] = getattr(current, name)
    return _mp_update_endpoint(self, endpoint_id=endpoint_id, **kwargs)


mediapackage.MediaPackageBackend.create_channel = _mp_create_channel_with_ingest
mediapackage.Channel.to_dict = _mp_channel_to_dict_with_ingest
mediapackage.MediaPackageBackend.create_origin_endpoint = _mp_create_endpoint_with_url
mediapackage.MediaPackageBackend.update_origin_endpoint = _mp_update_endpoint_keeping_omitted


# ---------------------------------------------------------------- MediaLive

ML = medialive.MediaLiveBackend


def _channel(self, channel_id):
    if channel_id not in self._channels:
        raise NotFound(f"Channel {channel_id} not found")
    return self._channels[channel_id]


def _input(self, input_id):
    if input_id not in self._inputs:
        raise NotFound(f"Input {input_id} not found")
    return self._inputs[input_id]


def _wrap_lookup(name, lookup, key):
    original = getattr(ML, name)

    def wrapped(self, *args, **kwargs):
        lookup(self, kwargs[key] if key in kwargs else args[0])
        return original(self, *args, **kwargs)

    setattr(ML, name, wrapped)


for _name in ("describe_channel", "delete_channel", "start_channel", "stop_channel", "update_channel"):
    _wrap_lookup(_name, _channel, "channel_id")
for _name in ("describe_input", "delete_input", "update_input"):
    _wrap_lookup(_name, _input, "input_id")

_ml_create_input = ML.create_input


def _ml_create_input_with_urls(self, **kwargs):
    created = _ml_create_input(self, **kwargs)
    created.security_groups = kwargs.get("input_security_groups") or []
    if created.type == "RTMP_PUSH":
        for n, destination in enumerate(created.destinations or []):
            ip = f"198.51.100.{10 + n}"  # TEST-NET-2: documentation addresses, never routed
            destination.update({"Ip": ip, "Port": "1935", "Url": f"rtmp://{ip}:1935/{destination.get('StreamName', '')}"})
    return created


_ml_update_channel = ML.update_channel


def _ml_update_channel_keeping_omitted(self, channel_id, **kwargs):
    channel = _channel(self, channel_id)
    channel._resolve_transient_states()
    if channel.state != "IDLE":
        raise Conflict(f"Channel {channel_id} is {channel.state}; it can be updated only when IDLE")
    for name, value in list(kwargs.items()):
        if value is None:
            kwargs[name] = getattr(channel, name)
    return _ml_update_channel(self, channel_id=channel_id, **kwargs)


_ml_start_channel = ML.start_channel


def _ml_start_channel_when_idle(self, channel_id):
    channel = _channel(self, channel_id)
    channel._resolve_transient_states()
    if channel.state != "IDLE":
        raise Conflict(f"Channel {channel_id} is {channel.state}; only an IDLE channel can start")
    return _ml_start_channel(self, channel_id)


_ml_delete_channel = ML.delete_channel


def _ml_delete_channel_when_stopped(self, channel_id):
    channel = _channel(self, channel_id)
    if channel.state in ("STARTING", "RUNNING", "STOPPING"):
        raise Conflict(f"Channel {channel_id} is {channel.state}; stop it before deleting it")
    return _ml_delete_channel(self, channel_id)


_ml_delete_input = ML.delete_input


def _ml_delete_input_when_detached(self, input_id):
    for channel in self._channels.values():
        attached = [a.get("InputId") for a in (channel.input_attachments or [])]
        if input_id in attached and channel.state != "DELETED":
            raise Conflict(f"Input {input_id} is attached to channel {channel.id}, which is {channel.state}")
    return _ml_delete_input(self, input_id)


def _moving_states_on(list_method):
    def listed(self):
        resources = list_method(self)
        for resource in resources:
            resource._resolve_transient_states()
        return resources

    return listed


ML.list_channels = _moving_states_on(ML.list_channels)
ML.list_inputs = _moving_states_on(ML.list_inputs)
ML.create_input = _ml_create_input_with_urls
ML.update_channel = _ml_update_channel_keeping_omitted
ML.start_channel = _ml_start_channel_when_idle
ML.delete_channel = _ml_delete_channel_when_stopped
ML.delete_input = _ml_delete_input_when_detached


# ---------------------------------------------------------------- the application

class Distributions:
    """CloudFront distribution configs, stored verbatim, with ETags."""

    PATH = re.compile(r"^/2020-05-31/distribution/([^/]+)/config$")
    NS = "{http://cloudfront.amazonaws.com/doc/2020-05-31/}"
    MAX_ORIGINS, MAX_CACHE_BEHAVIORS = 100, 75

    def __init__(self):
        self.lock = threading.Lock()
        self.configs = {}  # id -> (etag, bytes)
        self.precondition_failures = 0
        self.model = ServiceShapes("cloudfront").model

    def create(self, body):
        problems = self.problems(body)
        if problems:
            return 400, {"message": "; ".join(problems)}
        distribution_id = "E" + uuid.uuid4().hex[:13].upper()
        with self.lock:
            self.configs[distribution_id] = (self.new_etag(), body)
        return 200, {"id": distribution_id}

    @staticmethod
    def new_etag():
        return "E" + uuid.uuid4().hex[:13].upper()

    def handle(self, method, path, headers, body):
        """(status, headers, body) for a config request of a stored distribution; None for anything else."""
        match = self.PATH.match(path)
        if not match or match.group(1) not in self.configs or method not in ("GET", "PUT"):
            return None
        distribution_id = match.group(1)
        with self.lock:
            etag, stored = self.configs[distribution_id]
            if method == "GET":
                return 200, [("ETag", etag), ("Content-Type", "text/xml")], stored
            if_match = headers.get("HTTP_IF_MATCH")
            if not if_match:
                return self.error(400, "InvalidIfMatchVersion", "The If-Match version is missing or not valid.")
            if if_match != etag:
                self.precondition_failures += 1
                return self.error(412, "PreconditionFailed", "The precondition given in one or more of the request-header fields evaluated to false.")
            problems = self.problems(body)
            if problems:
                code = problems[0].split(":", 1)[0] if problems[0].split(":", 1)[0].isalpha() else "InvalidArgument"
                return self.error(400, code, "; ".join(problems))
            new = self.new_etag()
            self.configs[distribution_id] = (new, body)
        text = body.decode()
        inner = text[text.index("<DistributionConfig"):]
        answer = (f'<?xml version="1.0" encoding="UTF-8"?><Distribution xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
                  f"<Id>{distribution_id}</Id><Status>InProgress</Status><DomainName>{distribution_id.lower()}.cloudfront.net</DomainName>"
                  f"{inner}</Distribution>").encode()
        return 200, [("ETag", new), ("Content-Type", "text/xml")], answer

    def problems(self, body):
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as error:
            return [f"MalformedXML: {error}"]
        if root.tag != self.NS + "DistributionConfig":
            return [f"MalformedXML: root is {root.tag}"]
        found = []
        for element in root.iter():
            quantity = element.find(self.NS + "Quantity")
            if quantity is not None:
                items = element.find(self.NS + "Items")
                count = len(items) if items is not None else 0
                if int(quantity.text or "0") != count:
                    found.append(f"InconsistentQuantities: {element.tag[len(self.NS):]} says {quantity.text}, holds {count}")
        origins = [o.findtext(self.NS + "Id") for o in root.iterfind(f"{self.NS}Origins/{self.NS}Items/{self.NS}Origin")]
        behaviours = list(root.iterfind(f"{self.NS}CacheBehaviors/{self.NS}Items/{self.NS}CacheBehavior"))
        if len(origins) != len(set(origins)):
            found.append("InvalidArgument: origin ids must be unique")
        if len(origins) > self.MAX_ORIGINS:
            found.append(f"TooManyOrigins: {len(origins)} origins")
        if len(behaviours) > self.MAX_CACHE_BEHAVIORS:
            found.append(f"TooManyCacheBehaviors: {len(behaviours)} cache behaviours")
        for behaviour in behaviours + [root.find(self.NS + "DefaultCacheBehavior")]:
            target = behaviour.findtext(self.NS + "TargetOriginId") if behaviour is not None else None
            if behaviour is not None and target not in origins:
                found.append(f"NoSuchOrigin: {target}")
        for element in root.iter():
            element.tag = element.tag[len(self.NS):] if element.tag.startswith(self.NS) else element.tag
        found += [f"InvalidArgument: {p}" for p in xml_problems(self.model, "DistributionConfig", root)]
        return found

    @staticmethod
    def error(status, code, message):
        body = (f'<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
                f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()
        return status, [("Content-Type", "text/xml")], body


class Emulator:
    """moto's WSGI application behind the `/_emulator/` test-data routes."""

    CHECKED = ("medialive", "mediapackage")

    def __init__(self):
        self.moto = atomic_dynamodb(DomainDispatcherApplication(create_backend_app))
        self.shapes = {service: ServiceShapes(service) for service in self.CHECKED}
        self.distributions = Distributions()
        self.request_lock = threading.Lock()
        self.request_ids = {}  # (create path, requestId) -> (first answer's status, resource id)
        self.actions = set()  # (access key id, "<service>:<operation>") of every AWS call
        self.routes = dict(self.shapes)
        self.alerts = {}  # MediaLive channel id -> [ChannelAlert]

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_emulator/"):
            return self.emulator_route(environ, start_response)
        service = self.signing_service(environ)
        self.record_action(service, environ)
        if service is None and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            if b"Action=AssumeRoleWithWebIdentity" in body:
                environ["HTTP_HOST"] = "sts.amazonaws.com"
        if service != "cloudfront" and service not in self.shapes:
            return self.moto(environ, start_response)
        # Read the body once; moto reads it again from the copy.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if service == "cloudfront":
            answer = self.distributions.handle(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ, body)
            if answer is not None:
                status, headers, data = answer
                start_response(f"{status} {'OK' if status == 200 else 'Error'}", headers + [("Content-Length", str(len(data)))])
                return [data]
        if service in self.shapes:
            problems = self.shapes[service].problems(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body)
            if problems:
                return self.reply(start_response, "400 Bad Request", {"message": "; ".join(problems[:20])},
                                  [("x-amzn-ErrorType", "BadRequestException")])
        if service == "medialive" and environ["REQUEST_METHOD"] == "POST" and environ.get("PATH_INFO") in self.IDEMPOTENT_CREATES:
            return self.idempotent_create(environ, start_response, body)
        alerts = re.fullmatch(r"/prod/channels/([^/]+)/alerts", environ.get("PATH_INFO", ""))
        if service == "medialive" and environ["REQUEST_METHOD"] == "GET" and alerts:
            return self.list_alerts(environ, start_response, alerts.group(1))
        thumbnails = re.fullmatch(r"/prod/channels/([^/]+)/thumbnails", environ.get("PATH_INFO", ""))
        if service == "medialive" and environ["REQUEST_METHOD"] == "GET" and thumbnails:
            return self.describe_thumbnails(environ, start_response, thumbnails.group(1))
        return self.moto(environ, start_response)

    def describe_channel(self, environ, channel_id):
        """moto's DescribeChannel of `channel_id`, asked with the signed request's headers: (status, headers, body)."""
        described = dict(environ, REQUEST_METHOD="GET", PATH_INFO=f"/prod/channels/{channel_id}", RAW_URI=f"/prod/channels/{channel_id}",
                         REQUEST_URI=f"/prod/channels/{channel_id}", QUERY_STRING="", CONTENT_LENGTH="0")
        described["wsgi.input"] = io.BytesIO(b"")
        return self.call_moto(described)

    @staticmethod
    def query(environ):
        return dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)

    def list_alerts(self, environ, start_response, channel_id):
        """ListAlerts: the alerts a test set for the channel, filtered by `stateFilter`."""
        status, headers, data = self.describe_channel(environ, channel_id)
        if not status.startswith("2"):
            start_response(status, headers)
            return [data]
        wanted = self.query(environ).get("stateFilter")
        with self.request_lock:
            listed = [alert for alert in self.alerts.get(channel_id, []) if wanted in (None, alert["state"])]
        return self.reply(start_response, "200 OK", {"alerts": listed})

    THUMBNAIL = base64.b64encode(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "thumbnail.jpg"), "rb").read()).decode()

    def describe_thumbnails(self, environ, start_response, channel_id):
        """DescribeThumbnails: the test picture of a RUNNING channel that makes thumbnails."""
        query = self.query(environ)
        if query.get("pipelineId") not in ("0", "1") or query.get("thumbnailType") != "CURRENT_ACTIVE":
            return self.reply(start_response, "400 Bad Request", {"message": "pipelineId must be 0 or 1 and thumbnailType CURRENT_ACTIVE"},
                              [("x-amzn-ErrorType", "BadRequestException")])
        status, headers, data = self.describe_channel(environ, channel_id)
        if not status.startswith("2"):
            start_response(status, headers)
            return [data]
        channel = json.loads(data)
        if ((channel.get("encoderSettings") or {}).get("thumbnailConfiguration") or {}).get("state") != "AUTO":
            return self.reply(start_response, "200 OK", {"thumbnailDetails": []})
        if channel.get("state") != "RUNNING":
            return self.reply(start_response, "400 Bad Request", {"message": f"Channel {channel_id} is not running"},
                              [("x-amzn-ErrorType", "BadRequestException")])
        taken = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        return self.reply(start_response, "200 OK", {"thumbnailDetails": [{"pipelineId": query["pipelineId"], "thumbnails": [
            {"body": self.THUMBNAIL, "contentType": "image/jpeg", "thumbnailType": "CURRENT_ACTIVE", "timeStamp": taken}]}]})

    # MediaLive's create path -> the answer's member holding the resource.
    IDEMPOTENT_CREATES = {"/prod/inputs": "input", "/prod/channels": "channel"}

    def idempotent_create(self, environ, start_response, body):
        """CreateInput / CreateChannel: a repeated requestId answers with the first request's resource."""
        path = environ["PATH_INFO"]
        member = self.IDEMPOTENT_CREATES[path]
        request_id = (json.loads(body or b"{}") or {}).get("requestId")
        with self.request_lock:
            known = self.request_ids.get((path, request_id)) if request_id else None
            if known is None:
                status, headers, data = self.call_moto(environ)
                if request_id and status.startswith("2"):
                    self.request_ids[(path, request_id)] = (status, json.loads(data)[member]["id"])
                start_response(status, headers)
                return [data]
        status, resource_id = known
        described_path = f"{path}/{resource_id}"
        environ = dict(environ, REQUEST_METHOD="GET", PATH_INFO=described_path, RAW_URI=described_path, REQUEST_URI=described_path,
                       CONTENT_LENGTH="0", QUERY_STRING="")
        environ["wsgi.input"] = io.BytesIO(b"")
        described, headers, data = self.call_moto(environ)
        if not described.startswith("2"):
            start_response(described, headers)
            return [data]
        return self.reply(start_response, status, {member: json.loads(data)})

    def call_moto(self, environ):
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        data = b"".join(self.moto(environ, start_response))
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"] + [("Content-Length", str(len(data)))]
        return captured["status"], headers, data

    def record_action(self, service, environ):
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        target = environ.get("HTTP_X_AMZ_TARGET")
        if service is None:
            return
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif service in ("sts", "iam"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            operation = dict(pair.split("=", 1) for pair in body.decode().split("&") if "=" in pair).get("Action", "?")
        elif service == "s3":
            parts = path.strip("/").split("/", 1)
            query = environ.get("QUERY_STRING", "")
            operation = {("GET", 1): "ListObjectsV2" if "list-type=2" in query else "ListObjects", ("PUT", 1): "CreateBucket",
                         ("GET", 2): "GetObject", ("HEAD", 2): "HeadObject", ("PUT", 2): "PutObject", ("DELETE", 2): "DeleteObject"}.get((method, len(parts)), "?")
        else:
            if service not in self.routes:
                self.routes[service] = ServiceShapes(service)
            operation = self.routes[service].operation(method, path) or "?"
        auth = environ.get("HTTP_AUTHORIZATION", "")
        key = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else ""
        with self.request_lock:
            self.actions.add((key, f"{service}:{operation}"))

    @staticmethod
    def signing_service(environ):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        try:
            return auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")[3]
        except IndexError:
            return None

    @staticmethod
    def reply(start_response, status, payload, headers=()):
        data = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + list(headers))
        return [data]

    def emulator_route(self, environ, start_response):
        from moto.s3.models import s3_backends

        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        if environ["PATH_INFO"] == "/_emulator/cloudfront/distributions" and environ["REQUEST_METHOD"] == "POST":
            status, answer = self.distributions.create(raw)
            return self.reply(start_response, f"{status} {'OK' if status == 200 else 'Bad Request'}", answer)
        if environ["PATH_INFO"] == "/_emulator/actions":
            key = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p).get("key")
            with self.request_lock:
                return self.reply(start_response, "200 OK", {"actions": sorted({a for k, a in self.actions if key in (None, k)})})
        if environ["PATH_INFO"] == "/_emulator/medialive/alerts" and environ["REQUEST_METHOD"] == "POST":
            request = json.loads(raw or b"{}")
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            with self.request_lock:
                self.alerts[request["channel_id"]] = [
                    dict({"id": _digest(request["channel_id"], str(n), now), "setTimestamp": now}, **alert) for n, alert in enumerate(request["alerts"])]
            return self.reply(start_response, "200 OK", {"alerts": len(request["alerts"])})
        if environ["PATH_INFO"] == "/_emulator/cloudfront/stats":
            return self.reply(start_response, "200 OK", {"precondition_failed": self.distributions.precondition_failures})
        if environ["PATH_INFO"].startswith("/_emulator/cloudfront/distributions/") and environ["REQUEST_METHOD"] == "GET":
            stored = self.distributions.configs.get(environ["PATH_INFO"].rsplit("/", 1)[1])
            if stored:
                start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(stored[1])))])
                return [stored[1]]
        request = json.loads(raw or b"{}")
        if environ["PATH_INFO"] == "/_emulator/s3/objects" and environ["REQUEST_METHOD"] == "POST":
            backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
            body = request.get("body", "").encode()
            try:
                for key in request["keys"]:
                    backend.put_object(request["bucket"], key, body)
                answer, status = {"stored": len(request["keys"])}, "200 OK"
            except Exception as error:  # a missing bucket, a bad request: say so instead of a 500 page
                answer, status = {"message": str(error)}, "400 Bad Request"
        else:
            answer, status = {"message": "unknown emulator route"}, "404 Not Found"
        return self.reply(start_response, status, answer)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, Emulator(), threaded=True)
    print(f"aws emulator (moto + extensions) on http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
