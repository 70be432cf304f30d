"""Fault injection and state control as a client's own code meets them: the official SDKs'
retry machinery against injected RequestLimitExceeded / Throttling.User, and tccli against an
injected InternalError."""
import json
import urllib.request

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models

import pytest

from conftest import ADMIN_TOKEN, not_in_cluster
from imm_client import ImmError
from test_tccli import tccli


# Fault rules live in each node's memory (src/faults.rs): behind the round-robin proxy a rule
# posted to one node fires on a third of the requests, and one posted to every node fires its
# `count` times on each node, so the counted rules below cannot answer as these tests assert.
PER_NODE_FAULTS = not_in_cluster("fault rules and their counts are each node's own (in memory, "
                                 "src/faults.rs), so a counted rule cannot fire exactly `count` "
                                 "times for requests spread over three nodes")


def admin(server, method, path, body=None):
    req = urllib.request.Request(f"http://{server.endpoint}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def describe_with_retries(client, attempts):
    """Client code's usual retry loop on the SDK's RequestLimitExceeded."""
    for n in range(attempts):
        try:
            return client.DescribeImages(models.DescribeImagesRequest()), n
        except TencentCloudSDKException as e:
            if e.get_code() != "RequestLimitExceeded" or n == attempts - 1:
                raise


@PER_NODE_FAULTS
def test_client_retry_code_gets_through_two_injected_rate_limits(fresh_server):
    # (tencentcloud-sdk-python 3.1.195's StandardRetryer keeps the first error after a retry
    # succeeds and raises it anyway, so client code retries by hand, as here.)
    s = fresh_server()
    admin(s, "POST", "/_cloudtwin/faults", {"dialect": "tencent", "action": "DescribeImages", "count": 2,
                                             "error": {"code": "RequestLimitExceeded"}})
    resp, retries = describe_with_retries(s.client("tc3-post"), 3)
    assert resp.TotalCount == 11 and retries == 2, "two retries, then the real answer"
    assert admin(s, "GET", "/_cloudtwin/faults")["rules"] == [], "the counted rule is spent"
    admin(s, "POST", "/_cloudtwin/faults", {"dialect": "tencent", "count": 1, "error": {"code": "RequestLimitExceeded"}})
    with pytest.raises(TencentCloudSDKException) as e:
        s.client("tc3-get").DescribeImages(models.DescribeImagesRequest())
    assert e.value.get_code() == "RequestLimitExceeded"


@PER_NODE_FAULTS
def test_the_alibaba_sdk_raises_its_throttling_exception_for_an_injected_throttle(fresh_server):
    s = fresh_server()
    admin(s, "POST", "/_cloudtwin/faults", {"dialect": "aliyun", "action": "ListProjects", "count": 1,
                                             "error": {"code": "Throttling.User", "message": "Request was denied due to user flow control."}})
    c = s.imm("v3")
    with pytest.raises(ImmError) as e:
        c.call("ListProjects")
    assert (e.value.code, e.value.status, e.value.kind) == ("Throttling.User", 400, "throttling")
    assert e.value.retry_after == 1000
    assert c.call("ListProjects")["Projects"] == []
    legacy = s.imm("legacy")
    admin(s, "POST", "/_cloudtwin/faults", {"dialect": "aliyun", "count": 1, "error": {"code": "ServiceUnavailable", "status": 503}})
    with pytest.raises(ImmError) as e:
        legacy.call("ListProjects")
    assert (e.value.code, e.value.status) == ("ServiceUnavailable", 503)


@PER_NODE_FAULTS
def test_tccli_reports_an_injected_internal_error(fresh_server):
    s = fresh_server()
    admin(s, "POST", "/_cloudtwin/faults", {"dialect": "tencent", "count": 1, "error": {"code": "InternalError", "message": "injected"}})
    code, out = tccli(s, "DescribeImageQuota")
    assert code == 255 and "code:InternalError" in out
    code, out = tccli(s, "DescribeImageQuota")
    assert code == 0, out


def test_state_control_makes_an_image_fail_for_the_sdk(fresh_server):
    s = fresh_server()
    c = s.client("tc3-post")
    req = models.CreateImageRequest()
    req.ImageName, req.InstanceId = "will-fail", "ins-abcdefgh"
    image_id = c.CreateImage(req).ImageId
    admin(s, "POST", f"/_cloudtwin/cvm/images/{image_id}/state", {"state": "CREATEFAILED"})
    d = models.DescribeImagesRequest()
    d.ImageIds = [image_id]
    assert c.DescribeImages(d).ImageSet[0].ImageState == "CREATEFAILED"
    m = models.ModifyImageAttributeRequest()
    m.ImageId, m.ImageName = image_id, "x"
    with pytest.raises(TencentCloudSDKException) as e:
        c.ModifyImageAttribute(m)
    assert e.value.get_code() == "InvalidImageId.IncorrectState"
