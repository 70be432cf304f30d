"""CVM image behaviour through the official tencentcloud-sdk-python, in all four request styles
(TC3 POST JSON, TC3 GET, v1 HmacSHA256 GET, v1 HmacSHA1 POST), against the real binary."""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models

from conftest import ACCOUNT_1, SECRET_ID_1, SECRET_ID_2, SECRET_KEY_2, timer_start, unique, watch_transition


def code_of(fn):
    """The SDK exception code raised by fn (fails the test when nothing is raised)."""
    with pytest.raises(TencentCloudSDKException) as e:
        fn()
    assert e.value.get_request_id(), "an error envelope always carries a RequestId"
    return e.value.get_code()


def create(client, name, **extra):
    req = models.CreateImageRequest()
    req.from_json_string(json.dumps(dict({"ImageName": name, "InstanceId": "ins-abcdefgh"}, **extra)))
    return client.CreateImage(req).ImageId


def describe(client, **params):
    req = models.DescribeImagesRequest()
    req.from_json_string(json.dumps(params))
    return client.DescribeImages(req)


def one(client, image_id):
    r = describe(client, ImageIds=[image_id])
    return r.ImageSet[0] if r.ImageSet else None


def modify(client, image_id, **fields):
    req = models.ModifyImageAttributeRequest()
    req.from_json_string(json.dumps(dict({"ImageId": image_id}, **fields)))
    return client.ModifyImageAttribute(req)


def delete(client, ids, dry_run=None):
    req = models.DeleteImagesRequest()
    req.ImageIds = ids
    if dry_run is not None:
        req.DryRun = dry_run
    return client.DeleteImages(req)


# --- CreateImage -----------------------------------------------------------------------------

def test_create_image_returns_an_img_id_and_the_image_becomes_normal_after_the_delay(fresh_server, style):
    s = fresh_server(ready_after_ms=60_000)  # pins the first image in CREATING
    c = s.client(style)
    image_id = create(c, "fresh", ImageDescription="made by the sdk",
                      TagSpecification=[{"ResourceType": "image", "Tags": [{"Key": "team", "Value": "a b"}]}])
    assert len(image_id) == 12 and image_id.startswith("img-")
    img = one(c, image_id)
    assert img.ImageState == "CREATING"
    assert img.ImageType == "PRIVATE_IMAGE"
    assert img.ImageCreator == ACCOUNT_1
    assert img.ImageDescription == "made by the sdk"
    assert [(t.Key, t.Value) for t in img.Tags] == [("team", "a b")]
    assert img.CreatedTime.endswith("Z")
    # With a short delay: CREATING until it has passed, then NORMAL.
    s.set_ready_after_ms(600)
    t0 = timer_start()
    second = create(c, "fresh-2")
    watch_transition(t0, 600, "CREATING", "NORMAL", lambda: one(c, second))
    assert one(c, image_id).ImageState == "CREATING"


def test_create_image_rejects_a_duplicate_name_and_bad_sources(server, style):
    c = server.client(style)
    name = unique("dup")
    create(c, name)
    assert code_of(lambda: create(c, name)) == "InvalidImageName.Duplicate"
    req = models.CreateImageRequest()
    req.ImageName = unique("nosrc")
    assert code_of(lambda: c.CreateImage(req)) == "InvalidParameter.SpecifyOneParameter"
    req.InstanceId = "ins-abcdefgh"
    req.SnapshotIds = ["snap-abcdefgh"]
    assert code_of(lambda: c.CreateImage(req)) == "InvalidParameterConflict"
    assert code_of(lambda: create(c, unique("bad"), InstanceId="i-123")) == "InvalidInstanceId.Malformed"
    assert code_of(lambda: create(c, "x" * 61)) == "InvalidParameter.ValueTooLarge"


def test_create_image_dry_run_creates_nothing(server, style):
    c = server.client(style)
    name = unique("dry")
    req = models.CreateImageRequest()
    req.ImageName = name
    req.InstanceId = "ins-abcdefgh"
    req.DryRun = True
    c.CreateImage(req)
    assert describe(c, Filters=[{"Name": "image-name", "Values": [name]}]).TotalCount == 0


# --- DescribeImages --------------------------------------------------------------------------

def test_describe_images_filters_and_pages(fresh_server, style):
    s = fresh_server()
    c = s.client(style)
    ids = [create(c, f"page-{i}") for i in range(7)]
    tagged = create(c, "tagged-one", TagSpecification=[{"ResourceType": "image", "Tags": [{"Key": "env", "Value": "prod"}]}])
    everything = describe(c, Filters=[{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], Limit=100)
    assert everything.TotalCount == 8
    newest_first = [i.ImageId for i in everything.ImageSet]
    assert set(newest_first) == set(ids + [tagged])
    pages = []
    for offset in range(0, 8, 3):
        r = describe(c, Filters=[{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], Offset=offset, Limit=3)
        assert r.TotalCount == 8
        pages.extend(i.ImageId for i in r.ImageSet)
    assert pages == newest_first, "pages are stable and in the same order as one big page"
    assert describe(c, Filters=[{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]).TotalCount == 8
    assert describe(c, Filters=[{"Name": "image-name", "Values": ["page-"]}]).TotalCount == 7
    assert describe(c, Filters=[{"Name": "image-id", "Values": [ids[0], ids[1]]}]).TotalCount == 2
    assert describe(c, Filters=[{"Name": "tag-key", "Values": ["env"]}]).TotalCount == 1
    assert describe(c, Filters=[{"Name": "tag-value", "Values": ["prod"]}]).TotalCount == 1
    assert describe(c, Filters=[{"Name": "tag:env", "Values": ["prod"]}]).TotalCount == 1
    assert describe(c, Filters=[{"Name": "platform", "Values": ["TencentOS"]}, {"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]).TotalCount == 8
    assert describe(c, Filters=[{"Name": "image-state", "Values": ["NORMAL"]}, {"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]).TotalCount == 8
    r = describe(c, ImageIds=[ids[3], "img-00000000"])
    assert [i.ImageId for i in r.ImageSet] == [ids[3]] and r.TotalCount == 1


def test_describe_images_limits_and_their_codes(server, style):
    c = server.client(style)
    assert code_of(lambda: describe(c, ImageIds=["img-00000000"], Filters=[{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}])) == \
        "InvalidParameter.InvalidParameterCoexistImageIdsFilters"
    assert code_of(lambda: describe(c, Filters=[{"Name": "image-name", "Values": ["a"]}] * 11)) == \
        "InvalidParameterValue.LimitExceeded"
    assert code_of(lambda: describe(c, Filters=[{"Name": "image-name", "Values": list("abcdef")}])) == \
        "InvalidFilterValue.LimitExceeded"
    assert code_of(lambda: describe(c, Filters=[{"Name": "no-such-filter", "Values": ["a"]}])) == "InvalidFilter"
    assert code_of(lambda: describe(c, Limit=101)) == "InvalidParameterValue.InvalidParameterValueLimit"
    assert code_of(lambda: describe(c, ImageIds=["img-BAD"])) == "InvalidImageId.Malformed"
    assert code_of(lambda: describe(c, InstanceType="not a type")) == "InvalidInstanceType.Malformed"
    assert len(describe(c).ImageSet) <= 20


# --- ModifyImageAttribute (the seed) -----------------------------------------------------------

def test_modify_image_attribute_changes_every_field(server, style):
    c = server.client(style)
    image_id = create(c, unique("m"))
    new_name = unique("renamed")
    modify(c, image_id, ImageName=new_name, ImageDescription="new words", ImageFamily="web-daily",
           ImageDeprecated=True)
    img = one(c, image_id)
    assert (img.ImageName, img.ImageDescription, img.ImageFamily, img.ImageDeprecated) == \
        (new_name, "new words", "web-daily", True)
    modify(c, image_id, ImageDeprecated=False)
    assert one(c, image_id).ImageDeprecated is False
    modify(c, image_id, ImageName=new_name)  # its own name: success


def test_modify_image_attribute_error_codes(fresh_server, style):
    s = fresh_server(ready_after_ms=60_000)
    c = s.client(style)
    creating = create(c, "still-creating")
    assert code_of(lambda: modify(c, creating, ImageName="x")) == "InvalidImageId.IncorrectState"
    assert code_of(lambda: modify(c, "img-123")) == "InvalidImageId.Malformed"
    assert code_of(lambda: modify(c, "img-zzzzzzzz", ImageName="x")) == "InvalidImageId.NotFound"
    assert code_of(lambda: modify(c, creating, ImageName="n" * 61)) == "InvalidParameter.ValueTooLarge"
    assert code_of(lambda: modify(c, creating, ImageDescription="d" * 257)) == "InvalidParameter.ValueTooLarge"
    assert code_of(lambda: modify(c, creating, ImageFamily="-bad family")) == "InvalidParameterValue.InvalidImageFamily"


def test_modify_image_attribute_rejects_a_duplicate_name_and_counts_unicode_characters(server, style):
    c = server.client(style)
    a = create(c, unique("a"))
    taken = unique("taken")
    create(c, taken)
    assert code_of(lambda: modify(c, a, ImageName=taken)) == "InvalidImageName.Duplicate"
    long_cjk = ("镜像" * 30)
    modify(c, a, ImageName=long_cjk + unique("")[:0])
    assert one(c, a).ImageName == long_cjk
    assert code_of(lambda: modify(c, a, ImageName=long_cjk + "名")) == "InvalidParameter.ValueTooLarge"
    modify(c, a, ImageName=unique("a"))


def test_fifty_concurrent_renames_to_one_name_have_exactly_one_winner(server):
    c = server.client("tc3-post")
    ids = [create(c, unique("race")) for _ in range(50)]
    target = unique("prize")

    def attempt(image_id):
        try:
            modify(server.client("tc3-post"), image_id, ImageName=target)
            return "ok"
        except TencentCloudSDKException as e:
            return e.get_code()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, ids))
    assert results.count("ok") == 1, results
    assert set(results) == {"ok", "InvalidImageName.Duplicate"}
    assert describe(c, Filters=[{"Name": "image-name", "Values": [target]}]).TotalCount == 1


# --- DeleteImages ----------------------------------------------------------------------------

def test_delete_images_follows_the_state_rules_and_dry_run(fresh_server, style):
    s = fresh_server(ready_after_ms=60_000)  # pins the image in CREATING
    c = s.client(style)
    image_id = create(c, "to-delete")
    assert code_of(lambda: delete(c, [image_id])) == "InvalidImageId.IncorrectState"
    s.set_image_state(image_id, state="NORMAL")
    delete(c, [image_id], dry_run=True)
    assert one(c, image_id) is not None, "DryRun deletes nothing"
    assert code_of(lambda: delete(c, [image_id, "img-00000000"])) == "InvalidImageId.NotFound"
    assert one(c, image_id) is not None, "a refused batch deletes nothing"
    assert code_of(lambda: delete(c, ["nope"])) == "InvalidImageId.Malformed"
    delete(c, [image_id])
    assert one(c, image_id) is None
    create(c, "to-delete")  # the name is free again


# --- Common behaviour ------------------------------------------------------------------------

def test_accounts_and_regions_are_isolated(server, style):
    mine = server.client(style)
    theirs = server.client(style, secret_id=SECRET_ID_2, secret_key=SECRET_KEY_2)
    image_id = create(mine, unique("private"))
    assert one(theirs, image_id) is None
    assert code_of(lambda: modify(theirs, image_id, ImageName="stolen")) == "InvalidImageId.NotFound"
    assert code_of(lambda: delete(theirs, [image_id])) == "InvalidImageId.NotFound"
    assert one(server.client(style, region="ap-shanghai"), image_id) is None


def test_authentication_failures(server, style):
    wrong_key = server.client(style, secret_key="not-the-secret")
    assert code_of(lambda: describe(wrong_key)) == "AuthFailure.SignatureFailure"
    nobody = server.client(style, secret_id="AKIDnobody", secret_key="x")
    assert code_of(lambda: describe(nobody)) == "AuthFailure.SecretIdNotFound"


def test_an_expired_timestamp_is_signature_expire(server, style, monkeypatch):
    c = server.client(style)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)
    assert code_of(lambda: describe(c)) == "AuthFailure.SignatureExpire"


def test_tampered_requests_are_rejected_and_change_nothing(server, style, monkeypatch):
    c = server.client(style)
    image_id = create(c, unique("tamper"))
    original = one(c, image_id).ImageName
    real_send = requests.adapters.HTTPAdapter.send

    def tampering_send(self, request, **kw):
        if request.body:
            body = request.body if isinstance(request.body, bytes) else request.body.encode()
            request.body = body.replace(b"hijacked", b"hijackeD")
        if "hijacked" in request.url:
            request.url = request.url.replace("hijacked", "hijackeD")
        return real_send(self, request, **kw)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", tampering_send)
    assert code_of(lambda: modify(c, image_id, ImageName="hijacked")) == "AuthFailure.SignatureFailure"
    monkeypatch.undo()
    assert one(c, image_id).ImageName == original


def test_unknown_action_unknown_parameter_missing_parameter_and_region_errors(server, style):
    c = server.client(style)
    assert code_of(lambda: c.call_json("NoSuchAction", {})) == "InvalidAction"
    assert code_of(lambda: c.call_json("DescribeImages", {"Bogus": "1"})) == "UnknownParameter"
    assert code_of(lambda: c.call_json("ModifyImageAttribute", {})) == "MissingParameter"
    assert code_of(lambda: describe(server.client(style, region="mars-north-1"))) == "InvalidParameterValue"
    assert code_of(lambda: describe(server.client(style, region=""))) == "MissingParameter"


def test_chinese_default_language_still_gets_codes(server):
    c = server.client("tc3-post", language="zh-CN")
    assert code_of(lambda: modify(c, "img-00000000")) == "InvalidImageId.NotFound"


def test_request_limit_exceeded_carries_the_real_message(fresh_server):
    s = fresh_server(rate_limits=True)
    c = s.client("tc3-post")
    codes, messages = [], []
    for _ in range(25):
        try:
            modify(c, "img-00000000")
        except TencentCloudSDKException as e:
            codes.append(e.get_code())
            messages.append(e.get_message())
    assert "RequestLimitExceeded" in codes
    msg = messages[codes.index("RequestLimitExceeded")]
    assert msg.startswith("Your current request times equals to `") and "frequency limit `10` for a second" in msg
    # DescribeImages has its own documented limit (40/s): 15 quick calls pass.
    for _ in range(15):
        describe(c)


def test_acknowledged_writes_survive_kill_9_and_a_restart(fresh_server):
    s = fresh_server()
    c = s.client("tc3-post")
    image_id = create(c, "durable")
    modify(c, image_id, ImageDescription="acknowledged")
    s.kill9()
    s.restart()
    img = one(s.client("tc3-post"), image_id)
    assert img.ImageDescription == "acknowledged"
    assert s.terminate() == 0, "graceful shutdown exits 0"


def message_of(fn):
    """(code, message) of the SDK exception fn raises."""
    with pytest.raises(TencentCloudSDKException) as e:
        fn()
    return e.value.get_code(), e.value.get_message()


@pytest.mark.parametrize("style", ["tc3-post", "tc3-get", "hmacsha256-get", "hmacsha1-post"])
def test_the_sdks_default_language_gets_the_chinese_message_and_en_us_the_english_one(server, style):
    # The SDK's default ClientProfile asks for zh-CN (X-TC-Language in TC3, Language in v1).
    default = server.client(style, language=None)
    assert message_of(lambda: modify(default, "img-00000000")) == \
        ("InvalidImageId.NotFound", "未找到该镜像：img-00000000。")
    english = server.client(style, language="en-US")
    assert message_of(lambda: modify(english, "img-00000000")) == \
        ("InvalidImageId.NotFound", "ImageId img-00000000 is not found")
