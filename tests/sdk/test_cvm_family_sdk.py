"""The rest of the CVM image family through the official SDK (every action, in all four request
styles where it matters) and tccli (DescribeImages, SyncImages, sharing)."""
import json
import time

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models

from conftest import ACCOUNT_2, SECRET_ID_2, SECRET_KEY_2, timer_start, unique, watch_transition
from test_cvm_sdk import code_of, create, describe, one
from test_tccli import ok as tccli_ok

PUBLIC_ID = "img-487zeit5"


def call(client, action, **params):
    req = getattr(models, action + "Request")()
    req.from_json_string(json.dumps(params))
    return getattr(client, action)(req)


def test_public_catalogue_and_instance_type(server, style):
    c = server.client(style)
    pub = describe(c, Filters=[{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}], Limit=100)
    assert pub.TotalCount == 11 and all(i.ImageType == "PUBLIC_IMAGE" for i in pub.ImageSet)
    arm = describe(c, InstanceType="SR1.MEDIUM2", Limit=100)
    assert arm.TotalCount >= 3 and all(i.Architecture == "arm" for i in arm.ImageSet)
    assert code_of(lambda: describe(c, InstanceType="QQ1.SMALL1")) == "InvalidParameterValue.InstanceTypeNotFound"
    assert code_of(lambda: call(c, "ModifyImageAttribute", ImageId=PUBLIC_ID, ImageName="x")) == \
        "InvalidParameterValue.InvalidImageId"
    assert code_of(lambda: call(c, "DeleteImages", ImageIds=[PUBLIC_ID])) == "InvalidParameterValue.InvalidImageId"


def test_import_image_and_describe_import_image_os(fresh_server, style):
    s = fresh_server(ready_after_ms=60_000)  # pins the first imports in IMPORTING
    c = s.client(style)
    oses = call(c, "DescribeImportImageOs")
    assert "CentOS" in oses.ImportImageOsListSupported.Linux
    assert any(v.OsName == "Ubuntu" and "16" in v.OsVersions for v in oses.ImportImageOsVersionSet)
    base = dict(Architecture="x86_64", OsType="Ubuntu", OsVersion="16", ImageName="imp",
                ImageUrl="https://b-1300000001.cos.ap-guangzhou.myqcloud.com/u.qcow2",
                TagSpecification=[{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}])
    fail_url = "https://b/cloudtwin-import-fail.raw"
    image_id = call(c, "ImportImage", **base).ImageId
    assert one(c, image_id).ImageState == "IMPORTING"
    failing = call(c, "ImportImage", **dict(base, ImageName="imp-bad", ImageUrl=fail_url)).ImageId
    assert one(c, failing).ImageState == "IMPORTING"
    # With a short delay each import ends on its own: NORMAL, or IMPORTFAILED for the marker.
    s.set_ready_after_ms(300)
    t0 = timer_start()
    done = call(c, "ImportImage", **dict(base, ImageName="imp-2")).ImageId
    failed = call(c, "ImportImage", **dict(base, ImageName="imp-bad-2", ImageUrl=fail_url)).ImageId
    assert watch_transition(t0, 300, "IMPORTING", "NORMAL", lambda: one(c, done)).ImageSource == "EXTERNAL_IMPORT"
    watch_transition(t0, 300, "IMPORTING", "IMPORTFAILED", lambda: one(c, failed))
    assert code_of(lambda: call(c, "ImportImage", **dict(base, ImageName="imp2", OsType="Plan9"))) == \
        "InvalidImageOsType.Unsupported"
    assert code_of(lambda: call(c, "ImportImage", **dict(base, ImageName="imp2", OsVersion="1"))) == \
        "InvalidImageOsVersion.Unsupported"
    assert code_of(lambda: call(c, "ImportImage", **dict(base, ImageName="imp2", ImageUrl="not a url"))) == \
        "InvalidParameter.InvalidParameterUrlError"
    assert code_of(lambda: call(c, "ImportImage", **dict(base, ImageName="imp"))) == "InvalidImageName.Duplicate"


def test_sync_images_to_other_regions(fresh_server, style):
    s = fresh_server(ready_after_ms=60_000)  # pins the source in CREATING and the copies in SYNCING
    c = s.client(style)
    src = create(c, "golden")
    assert code_of(lambda: call(c, "SyncImages", ImageIds=[src], DestinationRegions=["ap-shanghai"])) == \
        "InvalidImageId.IncorrectState"
    s.set_image_state(src, state="NORMAL")
    r = call(c, "SyncImages", ImageIds=[src], DestinationRegions=["ap-shanghai", "ap-beijing"], ImageSetRequired=True)
    assert sorted(x.Region for x in r.ImageSet) == ["ap-beijing", "ap-shanghai"]
    sh = s.client(style, region="ap-shanghai")
    copy_id = [x.ImageId for x in r.ImageSet if x.Region == "ap-shanghai"][0]
    copy = one(sh, copy_id)
    assert copy.ImageState == "SYNCING" and copy.ImageName == "golden"
    # With a short delay a copy is SYNCING until it has passed, then NORMAL at 100%.
    s.set_ready_after_ms(800)
    t0 = timer_start()
    r = call(c, "SyncImages", ImageIds=[src], DestinationRegions=["ap-seoul"], ImageSetRequired=True)
    seoul = s.client(style, region="ap-seoul")
    assert watch_transition(t0, 800, "SYNCING", "NORMAL", lambda: one(seoul, r.ImageSet[0].ImageId)).SyncPercent == 100
    assert code_of(lambda: call(c, "SyncImages", ImageIds=[src], DestinationRegions=["ap-shanghai"])) == \
        "InvalidImageName.Duplicate"
    assert code_of(lambda: call(c, "SyncImages", ImageIds=[src], DestinationRegions=["nowhere-1"])) == \
        "InvalidRegion.NotFound"
    assert call(c, "SyncImages", ImageIds=[src], DestinationRegions=["ap-tokyo"]).ImageSet == []


def test_sharing_between_accounts(fresh_server, style):
    s = fresh_server()
    owner = s.client(style)
    other = s.client(style, secret_id=SECRET_ID_2, secret_key=SECRET_KEY_2)
    image_id = create(owner, unique("share"))
    call(owner, "ModifyImageSharePermission", ImageId=image_id, AccountIds=[ACCOUNT_2], Permission="SHARE")
    assert one(other, image_id).ImageType == "SHARED_IMAGE"
    perms = call(owner, "DescribeImageSharePermission", ImageId=image_id).SharePermissionSet
    assert [p.AccountId for p in perms] == [ACCOUNT_2]
    assert code_of(lambda: call(other, "ModifyImageAttribute", ImageId=image_id, ImageName="x")) == \
        "UnsupportedOperation.SharedImageModifyUnsupported"
    assert code_of(lambda: call(other, "DeleteImages", ImageIds=[image_id])) == \
        "InvalidParameterValue.InvalidImageIdIsShared"
    assert code_of(lambda: call(other, "ModifyImageSharePermission", ImageId=image_id, AccountIds=["100000000001"],
                                Permission="SHARE")) == "UnauthorizedOperation.ImageNotBelongToAccount"
    assert code_of(lambda: call(other, "ExportImages", BucketName="b-1300000002", ImageIds=[image_id])) == \
        "UnsupportedOperation.SharedImageExportUnsupported"
    assert code_of(lambda: call(owner, "DeleteImages", ImageIds=[image_id])) == "InvalidImageId.InShared"
    assert code_of(lambda: call(owner, "ModifyImageSharePermission", ImageId=image_id, AccountIds=["123"],
                                Permission="SHARE")) == "InvalidAccountId.NotFound"
    call(owner, "ModifyImageSharePermission", ImageId=image_id, AccountIds=[ACCOUNT_2], Permission="CANCEL")
    assert one(other, image_id) is None
    call(owner, "DeleteImages", ImageIds=[image_id])


def test_export_quota_and_family(fresh_server, style):
    s = fresh_server()
    c = s.client(style)
    assert call(c, "DescribeImageQuota").ImageNumQuota == 500
    image_id = create(c, "exp", ImageFamily="nightly")
    r = call(c, "ExportImages", BucketName="backups-1300000001", ImageIds=[image_id], ExportFormat="VMDK")
    assert r.TaskId >= 1 and r.CosPaths[0].startswith(f"/{image_id}_system_snap-") and r.CosPaths[0].endswith(".vmdk")
    assert code_of(lambda: call(c, "ExportImages", BucketName="nobody-42", ImageIds=[image_id])) == \
        "InvalidParameterValue.BucketNotFound"
    fam = call(c, "DescribeImageFromFamily", ImageFamily="nightly")
    assert fam.Image.ImageId == image_id
    assert call(c, "DescribeImageFromFamily", ImageFamily="no-such-family").Image is None


def test_quota_limit_on_create(fresh_server):
    s = fresh_server()
    with open(s.config) as f:
        text = f.read()
    s.terminate()
    with open(s.config, "w") as f:
        f.write(text.replace("[cvm]\n", "[cvm]\nimage_quota = 1\n"))
    s.restart()
    c = s.client()
    create(c, "only-one")
    assert call(c, "DescribeImageQuota").ImageNumQuota == 1
    assert code_of(lambda: create(c, "one-too-many")) == "ImageQuotaLimitExceeded"


def test_tccli_describe_sync_and_share(fresh_server):
    s = fresh_server()
    name = unique("cli")
    image_id = tccli_ok(s, "CreateImage", "--ImageName", name, "--InstanceId", "ins-abcdefgh")["ImageId"]
    synced = tccli_ok(s, "SyncImages", "--ImageIds", json.dumps([image_id]),
                      "--DestinationRegions", json.dumps(["ap-shanghai"]), "--ImageSetRequired", "true")
    assert synced["ImageSet"][0]["Region"] == "ap-shanghai"
    tccli_ok(s, "ModifyImageSharePermission", "--ImageId", image_id, "--AccountIds", json.dumps([ACCOUNT_2]),
             "--Permission", "SHARE")
    perms = tccli_ok(s, "DescribeImageSharePermission", "--ImageId", image_id)
    assert perms["SharePermissionSet"][0]["AccountId"] == ACCOUNT_2
    pub = tccli_ok(s, "DescribeImages", "--Filters", json.dumps([{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}]))
    assert pub["TotalCount"] == 11
    other = s.client("tc3-post", secret_id=SECRET_ID_2, secret_key=SECRET_KEY_2)
    assert one(other, image_id).ImageType == "SHARED_IMAGE"
