"""Tencent CAM and STS with the official SDKs (tencentcloud-sdk-python-cam, -sts) and tccli against
the real binary: sub-users made by CAM, their CVM calls allowed or denied by preset and custom
policies (resources, explicit deny, wildcards, conditions), role sessions from STS AssumeRole
narrowed by a session policy, a tampered token."""
import json
import os
import re
import subprocess
import sys
import urllib.parse

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

from conftest import ACCOUNT_1, REGION, SECRET_ID_1, SECRET_KEY_1, unique

TCCLI = os.path.join(os.path.dirname(sys.executable), "tccli")
DENIAL = re.compile(r"^\[request id:([^\]]+)\]you are not authorized to perform operation \(cvm:(\w+)\)\n"
                    r"resource \((.+)\) has no permission\n$")


def profile(server):
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=server.endpoint, reqTimeout=30))


def cred(secret_id, secret_key, token=None):
    return credential.Credential(secret_id, secret_key, token)


def cam(server, c=None):
    return cam_client.CamClient(c or cred(SECRET_ID_1, SECRET_KEY_1), REGION, profile(server))


def sts(server, c=None):
    return sts_client.StsClient(c or cred(SECRET_ID_1, SECRET_KEY_1), REGION, profile(server))


def cvm(server, c, region=REGION):
    return cvm_client.CvmClient(c, region, profile(server))


def root_cvm(server, region=REGION):
    return cvm(server, cred(SECRET_ID_1, SECRET_KEY_1), region)


def request(cls, **fields):
    r = cls()
    r.from_json_string(json.dumps(fields))
    return r


def create_image(server, region=REGION):
    r = request(cvm_models.CreateImageRequest, ImageName=unique("acc"), InstanceId="ins-abcdefgh")
    return root_cvm(server, region).CreateImage(r).ImageId


def add_user(server):
    r = cam(server).AddUser(request(cam_models.AddUserRequest, Name=unique("u"), UseApi=1, Remark="sdk"))
    assert isinstance(r.Uin, int) and isinstance(r.Uid, int)
    assert r.SecretId and r.SecretKey
    return r.Uin, cred(r.SecretId, r.SecretKey)


def attach(server, uin, policy_id):
    cam(server).AttachUserPolicy(request(cam_models.AttachUserPolicyRequest, PolicyId=policy_id, AttachUin=uin))


def custom_policy(server, statements):
    doc = json.dumps({"version": "2.0", "statement": statements})
    r = cam(server).CreatePolicy(request(cam_models.CreatePolicyRequest, PolicyName=unique("p"),
                                         PolicyDocument=doc, Description="sdk test"))
    assert isinstance(r.PolicyId, int)
    return r.PolicyId


def user_with(server, statements):
    uin, c = add_user(server)
    attach(server, uin, custom_policy(server, statements))
    return c


def preset_id(server, name):
    r = cam(server).ListPolicies(request(cam_models.ListPoliciesRequest, Scope="QCS", Rp=200))
    return next(p.PolicyId for p in r.List if p.PolicyName == name)


def image_arn(image_id, region=""):
    return f"qcs::cvm:{region}:uin/{ACCOUNT_1}:image/{image_id}"


def describe(client, ids=None):
    r = cvm_models.DescribeImagesRequest()
    if ids:
        r.ImageIds = ids
    return client.DescribeImages(r)


def modify(client, image_id, name=None):
    return client.ModifyImageAttribute(request(cvm_models.ModifyImageAttributeRequest, ImageId=image_id,
                                               ImageName=name or unique("n")))


def assert_denied(call, action, resource=None):
    with pytest.raises(TencentCloudSDKException) as e:
        call()
    assert e.value.code == "UnauthorizedOperation", (e.value.code, e.value.message)
    m = DENIAL.match(e.value.message)
    assert m, repr(e.value.message)
    assert m.group(1) == e.value.requestId
    assert m.group(2) == action
    if resource is not None:
        assert m.group(3) == resource
    return m.group(3)


def test_a_read_only_user_reads_and_every_write_is_denied(server):
    image = create_image(server)
    uin, c = add_user(server)
    client = cvm(server, c)
    assert_denied(lambda: describe(client), "DescribeImages", f"qcs::cvm:{REGION}:uin/{ACCOUNT_1}:image/*")
    attach(server, uin, preset_id(server, "QcloudCVMReadOnlyAccess"))
    listed = cam(server).ListAttachedUserPolicies(request(cam_models.ListAttachedUserPoliciesRequest, TargetUin=uin))
    assert listed.TotalNum == 1 and listed.List[0].PolicyName == "QcloudCVMReadOnlyAccess"
    assert describe(client, [image]).TotalCount == 1
    client.DescribeImageQuota(cvm_models.DescribeImageQuotaRequest())
    assert_denied(lambda: modify(client, image), "ModifyImageAttribute", image_arn(image, REGION))
    assert_denied(lambda: client.DeleteImages(request(cvm_models.DeleteImagesRequest, ImageIds=[image])),
                  "DeleteImages", image_arn(image, REGION))
    assert_denied(lambda: client.CreateImage(request(cvm_models.CreateImageRequest, ImageName="x",
                                                     InstanceId="ins-abcdefgh")), "CreateImage")
    assert_denied(lambda: client.ModifyImageSharePermission(request(
        cvm_models.ModifyImageSharePermissionRequest, ImageId=image, AccountIds=["100000000002"],
        Permission="SHARE")), "ModifyImageSharePermission")
    assert_denied(lambda: client.SyncImages(request(cvm_models.SyncImagesRequest, ImageIds=[image],
                                                    DestinationRegions=["ap-shanghai"])), "SyncImages")
    assert_denied(lambda: client.ExportImages(request(cvm_models.ExportImagesRequest, BucketName="b-1250000000",
                                                      ImageIds=[image], FileNamePrefixList=["x"])), "ExportImages")
    assert describe(root_cvm(server), [image]).ImageSet[0].ImageId == image


def test_one_allowed_image_is_acted_on_and_the_next_is_denied(server):
    a, b = create_image(server), create_image(server)
    c = user_with(server, [{"effect": "allow", "action": ["name/cvm:ModifyImageAttribute", "cvm:DeleteImages"],
                            "resource": [image_arn(a)]}])
    client = cvm(server, c)
    modify(client, a, "renamed-a")
    assert_denied(lambda: modify(client, b), "ModifyImageAttribute", image_arn(b, REGION))
    # A batch with one denied id is denied as a whole, naming that id, and deletes nothing.
    assert_denied(lambda: client.DeleteImages(request(cvm_models.DeleteImagesRequest, ImageIds=[a, b])),
                  "DeleteImages", image_arn(b, REGION))
    assert describe(root_cvm(server), [a]).TotalCount == 1


def test_explicit_deny_beats_allow_and_wildcards_match(server):
    a, b = create_image(server), create_image(server)
    c = user_with(server, [
        {"effect": "allow", "action": ["cvm:*"], "resource": ["*"]},
        {"effect": "deny", "action": ["cvm:Modify*"], "resource": [image_arn(a)]},
    ])
    client = cvm(server, c)
    assert_denied(lambda: modify(client, a), "ModifyImageAttribute", image_arn(a, REGION))
    modify(client, b)
    w = user_with(server, [{"effect": "allow", "action": ["name/cvm:Describe*", "cvm:Modify*"],
                            "resource": [f"qcs::cvm::uin/{ACCOUNT_1}:image/*"]}])
    wc = cvm(server, w)
    describe(wc, [a])
    modify(wc, a)
    assert_denied(lambda: wc.DeleteImages(request(cvm_models.DeleteImagesRequest, ImageIds=[a])), "DeleteImages")


@pytest.mark.parametrize("condition,allowed", [
    ({"ip_equal": {"qcs:ip": "127.0.0.1"}}, True),
    ({"ip_equal": {"qcs:ip": "10.0.0.0/8"}}, False),
    ({"date_less_than": {"qcs:current_time": "2020-01-01T00:00:00Z"}}, False),
    ({"date_greater_than": {"qcs:current_time": "2020-01-01T00:00:00Z"}}, True),
    ({"string_equal_if_exist": {"cvm:image_type": "PRIVATE_IMAGE"}}, True),
    ({"string_equal": {"cvm:image_type": "PRIVATE_IMAGE"}}, False),
    ({"for_any_value:string_equal": {"cvm:region": ["ap-beijing", "ap-guangzhou"]}}, True),
    ({"for_any_value:string_equal": {"cvm:region": ["ap-beijing"]}}, False),
])
def test_conditions(server, condition, allowed):
    c = user_with(server, [{"effect": "allow", "action": ["cvm:DescribeImages"], "resource": ["*"],
                            "condition": condition}])
    client = cvm(server, c)
    if allowed:
        describe(client)
    else:
        assert_denied(lambda: describe(client), "DescribeImages")


def test_a_region_condition_allows_one_region_only(server):
    c = user_with(server, [{"effect": "allow", "action": ["cvm:DescribeImages"], "resource": ["*"],
                            "condition": {"string_equal": {"cvm:region": "ap-guangzhou"}}}])
    describe(cvm(server, c, "ap-guangzhou"))
    assert_denied(lambda: describe(cvm(server, c, "ap-shanghai")), "DescribeImages",
                  f"qcs::cvm:ap-shanghai:uin/{ACCOUNT_1}:image/*")


def assume(server, role_name, policy=None, caller=None):
    fields = {"RoleArn": f"qcs::cam::uin/{ACCOUNT_1}:roleName/{role_name}", "RoleSessionName": "sdk-session",
              "DurationSeconds": 900}
    if policy is not None:
        fields["Policy"] = urllib.parse.quote(json.dumps(policy))
    r = sts(server, caller).AssumeRole(request(sts_models.AssumeRoleRequest, **fields))
    assert isinstance(r.ExpiredTime, int) and r.Expiration.endswith("Z")
    return r.Credentials


def make_role(server, preset):
    name = unique("role")
    trust = json.dumps({"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
                                                          "principal": {"qcs": [f"qcs::cam::uin/{ACCOUNT_1}:root"]}}]})
    role_id = cam(server).CreateRole(request(cam_models.CreateRoleRequest, RoleName=name, PolicyDocument=trust,
                                             Description="sdk", SessionDuration=3600)).RoleId
    assert isinstance(role_id, str)
    cam(server).AttachRolePolicy(request(cam_models.AttachRolePolicyRequest, PolicyId=preset_id(server, preset),
                                         AttachRoleName=name))
    return name


def test_a_role_session_is_narrowed_by_its_session_policy(server):
    image = create_image(server)
    role = make_role(server, "QcloudCVMFullAccess")
    full = assume(server, role)
    fc = cvm(server, cred(full.TmpSecretId, full.TmpSecretKey, full.Token))
    modify(fc, image)
    narrow = assume(server, role, {"version": "2.0", "statement": [
        {"effect": "allow", "action": ["cvm:Describe*"], "resource": ["*"]}]})
    nc = cvm(server, cred(narrow.TmpSecretId, narrow.TmpSecretKey, narrow.Token))
    assert describe(nc, [image]).TotalCount == 1
    assert_denied(lambda: modify(nc, image), "ModifyImageAttribute", image_arn(image, REGION))
    me = CommonClient("sts", "2018-08-13", cred(narrow.TmpSecretId, narrow.TmpSecretKey, narrow.Token), REGION,
                      profile(server)).call_json("GetCallerIdentity", {})["Response"]
    assert me["Type"] == "AssumedRoleUser" and me["AccountId"] == ACCOUNT_1


def test_a_tampered_token_is_refused(server):
    role = make_role(server, "QcloudCVMReadOnlyAccess")
    c = assume(server, role)
    bad = cvm(server, cred(c.TmpSecretId, c.TmpSecretKey, c.Token + "error"))
    with pytest.raises(TencentCloudSDKException) as e:
        describe(bad)
    assert e.value.code == "AuthFailure.TokenFailure"


def test_a_bad_policy_document_gets_the_cam_code(server):
    with pytest.raises(TencentCloudSDKException) as e:
        cam(server).CreatePolicy(request(cam_models.CreatePolicyRequest, PolicyName=unique("bad"),
                                         PolicyDocument='{"version":"2.0","statement":[{"effect":"perhaps",'
                                                        '"action":["cvm:*"],"resource":["*"]}]}'))
    assert e.value.code == "InvalidParameter.EffectError"
    with pytest.raises(TencentCloudSDKException) as e:
        sts(server).AssumeRole(request(sts_models.AssumeRoleRequest, RoleSessionName="s1",
                                       RoleArn=f"qcs::cam::uin/{ACCOUNT_1}:roleName/no-such-role"))
    assert e.value.code == "ResourceNotFound.RoleNotFound"


def test_tccli_with_a_sub_users_key_gets_the_denial(server):
    image = create_image(server)
    uin, c = add_user(server)
    attach(server, uin, preset_id(server, "QcloudCVMReadOnlyAccess"))
    base = [TCCLI, "cvm", "--region", REGION, "--endpoint", f"http://{server.endpoint}",
            "--secretId", c.secret_id, "--secretKey", c.secret_key]
    env = dict(os.environ, HOME=os.environ.get("TCCLI_HOME", "/tmp"))

    def run(action, *args):
        cmd = base[:2] + [action] + base[2:] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
        return p.returncode, p.stdout + p.stderr

    code, out = run("DescribeImages", "--ImageIds", json.dumps([image]))
    assert code == 0, out
    assert json.loads(out)["TotalCount"] == 1
    code, out = run("ModifyImageAttribute", "--ImageId", image, "--ImageName", "x")
    assert code == 255, out
    assert "code:UnauthorizedOperation" in out
    assert "you are not authorized to perform operation (cvm:ModifyImageAttribute)" in out
