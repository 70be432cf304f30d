"""A tour of every CAM 2019-01-16 action cloudtwin implements (router.rs `CAM_ACTIONS`) through
the typed `cam_client.CamClient` of tencentcloud-sdk-python-cam 3.1.181: the response models'
fields and types as the SDK parses them, the lifecycle effects seen by CVM and STS calls made
with the keys and roles concerned, and at least one error code per family; and tccli's
`cam AddUser` / `cam ListUsers`."""
import json
import os
import re
import subprocess
import sys

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as m
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

from conftest import ACCOUNT_1, ACCOUNT_2, REGION, SECRET_ID_1, SECRET_KEY_1, unique

TCCLI = os.path.join(os.path.dirname(sys.executable), "tccli")
CAM_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
ROOT = credential.Credential(SECRET_ID_1, SECRET_KEY_1)


def profile(server):
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=server.endpoint, reqTimeout=30))


def cam(server):
    return cam_client.CamClient(ROOT, REGION, profile(server))


def cvm(server, c):
    return cvm_client.CvmClient(c, REGION, profile(server))


def sts(server, c=None):
    return sts_client.StsClient(c or ROOT, REGION, profile(server))


def req(cls, **fields):
    r = cls()
    r.from_json_string(json.dumps(fields))
    return r


def call(server, action, **fields):
    """A typed CAM call: `getattr(CamClient, action)(<action>Request)`."""
    return getattr(cam(server), action)(req(getattr(m, action + "Request"), **fields))


def code_of(fn):
    with pytest.raises(TencentCloudSDKException) as e:
        fn()
    return e.value.code


def cam_code(server, action, **fields):
    return code_of(lambda: call(server, action, **fields))


def describe(client):
    return client.DescribeImages(cvm_models.DescribeImagesRequest())


def quota(client):
    return client.DescribeImageQuota(cvm_models.DescribeImageQuotaRequest())


def add_user(server, use_api=1, **extra):
    name = unique("tour")
    r = call(server, "AddUser", Name=name, UseApi=use_api, Remark="tour", **extra)
    assert isinstance(r.Uin, int) and isinstance(r.Uid, int)
    return name, r


def preset_id(server, name):
    r = call(server, "ListPolicies", Scope="QCS", Rp=200)
    return next(p.PolicyId for p in r.List if p.PolicyName == name)


def custom_policy(server, statements, description="tour"):
    doc = json.dumps({"version": "2.0", "statement": statements})
    r = call(server, "CreatePolicy", PolicyName=unique("tp"), PolicyDocument=doc, Description=description)
    assert isinstance(r.PolicyId, int)
    return r.PolicyId


def allow(*actions):
    return [{"effect": "allow", "action": list(actions), "resource": ["*"]}]


def trust(*principals):
    return json.dumps({"version": "2.0", "statement": [
        {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"qcs": list(principals)}}]})


def make_role(server, principals=(f"qcs::cam::uin/{ACCOUNT_1}:root",)):
    name = unique("trole")
    r = call(server, "CreateRole", RoleName=name, PolicyDocument=trust(*principals), Description="tour",
             SessionDuration=3600)
    assert isinstance(r.RoleId, str) and r.RoleId
    return name, r.RoleId


def assume(server, role, caller=None):
    r = sts(server, caller).AssumeRole(req(
        sts_models.AssumeRoleRequest, RoleArn=f"qcs::cam::uin/{ACCOUNT_1}:roleName/{role}",
        RoleSessionName="tour", DurationSeconds=900))
    c = r.Credentials
    return credential.Credential(c.TmpSecretId, c.TmpSecretKey, c.Token)


# ----- users ------------------------------------------------------------------------------


def test_get_list_and_update_user(server):
    name, added = add_user(server, use_api=0, Email="tour@example.com")
    assert added.SecretId == "" and added.SecretKey == ""
    u = call(server, "GetUser", Name=name)
    assert (u.Uin, u.Uid, u.Name, u.Remark) == (added.Uin, added.Uid, name, "tour")
    assert u.ConsoleLogin == 0 and isinstance(u.ConsoleLogin, int)
    assert u.Email == "tour@example.com"
    assert isinstance(u.RecentlyLoginIP, str) and isinstance(u.RecentlyLoginTime, str)
    assert isinstance(u.RequestId, str) and u.RequestId

    listed = call(server, "ListUsers")
    assert isinstance(listed.Data, list) and all(isinstance(x, m.SubAccountInfo) for x in listed.Data)
    mine = [x for x in listed.Data if x.Name == name]
    assert len(mine) == 1
    assert (mine[0].Uin, mine[0].Uid, mine[0].Remark) == (added.Uin, added.Uid, "tour")
    assert isinstance(mine[0].Uin, int) and CAM_TIME.match(mine[0].CreateTime), mine[0].CreateTime
    assert mine[0].NickName == name

    call(server, "UpdateUser", Name=name, Remark="renamed remark")
    assert call(server, "GetUser", Name=name).Remark == "renamed remark"
    # The other fields UpdateUser takes are kept, and what is not sent stays.
    call(server, "UpdateUser", Name=name, ConsoleLogin=1, Email="new@example.com", PhoneNum="13800000000",
         CountryCode="86")
    u = call(server, "GetUser", Name=name)
    assert (u.ConsoleLogin, u.Email, u.PhoneNum, u.CountryCode, u.Remark) == \
        (1, "new@example.com", "13800000000", "86", "renamed remark")
    call(server, "UpdateUser", Name=name, ConsoleLogin=0)
    u = call(server, "GetUser", Name=name)
    assert (u.ConsoleLogin, u.Email) == (0, "new@example.com")
    assert cam_code(server, "UpdateUser", Name=name, ConsoleLogin=2) == "InvalidParameter.ParamError"
    assert [x.Remark for x in call(server, "ListUsers").Data if x.Name == name] == ["renamed remark"]

    assert cam_code(server, "GetUser", Name=unique("nobody")) == "ResourceNotFound.UserNotExist"
    assert cam_code(server, "UpdateUser", Name=unique("nobody"), Remark="x") == "ResourceNotFound.UserNotExist"
    assert cam_code(server, "AddUser", Name=name) == "InvalidParameter.SubUserNameInUse"


def test_delete_user_without_and_with_force(server):
    # A sub-user with no key goes without Force.
    plain, _ = add_user(server, use_api=0)
    call(server, "DeleteUser", Name=plain)
    assert cam_code(server, "GetUser", Name=plain) == "ResourceNotFound.UserNotExist"
    assert plain not in [x.Name for x in call(server, "ListUsers").Data]

    # One with a key is refused without Force, keeps working, and goes with Force=1, key and all.
    name, added = add_user(server)
    call(server, "AttachUserPolicy", PolicyId=preset_id(server, "QcloudCVMReadOnlyAccess"), AttachUin=added.Uin)
    key = credential.Credential(added.SecretId, added.SecretKey)
    describe(cvm(server, key))
    assert cam_code(server, "DeleteUser", Name=name) == "OperationDenied.HaveKeys"
    assert cam_code(server, "DeleteUser", Name=name, Force=0) == "OperationDenied.HaveKeys"
    assert call(server, "GetUser", Name=name).Uin == added.Uin
    describe(cvm(server, key))
    call(server, "DeleteUser", Name=name, Force=1)
    assert cam_code(server, "GetUser", Name=name) == "ResourceNotFound.UserNotExist"
    assert code_of(lambda: describe(cvm(server, key))) == "AuthFailure.SecretIdNotFound"
    assert cam_code(server, "ListAccessKeys", TargetUin=added.Uin) == "ResourceNotFound.UserNotExist"
    assert cam_code(server, "DeleteUser", Name=name, Force=1) == "ResourceNotFound.UserNotExist"


# ----- access keys ------------------------------------------------------------------------


def test_access_key_lifecycle(server):
    name, added = add_user(server)
    call(server, "AttachUserPolicy", PolicyId=preset_id(server, "QcloudCVMReadOnlyAccess"), AttachUin=added.Uin)

    made = call(server, "CreateAccessKey", TargetUin=added.Uin, Description="second key")
    k = made.AccessKey
    assert isinstance(k, m.AccessKeyDetail)
    assert k.AccessKeyId.startswith("AKID") and k.SecretAccessKey and k.AccessKeyId != added.SecretId
    assert (k.Status, k.Description) == ("Active", "second key")
    assert CAM_TIME.match(k.CreateTime), k.CreateTime

    keys = call(server, "ListAccessKeys", TargetUin=added.Uin).AccessKeys
    assert all(isinstance(x, m.AccessKey) for x in keys)
    by_id = {x.AccessKeyId: x for x in keys}
    assert set(by_id) == {added.SecretId, k.AccessKeyId}
    assert by_id[k.AccessKeyId].Status == "Active" and CAM_TIME.match(by_id[k.AccessKeyId].CreateTime)
    assert by_id[k.AccessKeyId].Description == "second key"
    assert not hasattr(by_id[k.AccessKeyId], "SecretAccessKey") or \
        getattr(by_id[k.AccessKeyId], "SecretAccessKey", None) is None

    # Two keys is the limit.
    assert cam_code(server, "CreateAccessKey", TargetUin=added.Uin) == "OperationDenied.AccessKeyOverLimit"

    second = cvm(server, credential.Credential(k.AccessKeyId, k.SecretAccessKey))
    first = cvm(server, credential.Credential(added.SecretId, added.SecretKey))
    describe(second)

    # Inactive: that key's calls fail at once, the other key's go on; Active again restores it.
    call(server, "UpdateAccessKey", AccessKeyId=k.AccessKeyId, Status="Inactive", TargetUin=added.Uin)
    assert code_of(lambda: describe(second)) == "AuthFailure.SecretIdNotFound"
    describe(first)
    keys = {x.AccessKeyId: x.Status for x in call(server, "ListAccessKeys", TargetUin=added.Uin).AccessKeys}
    assert keys == {added.SecretId: "Active", k.AccessKeyId: "Inactive"}
    call(server, "UpdateAccessKey", AccessKeyId=k.AccessKeyId, Status="Active", TargetUin=added.Uin)
    describe(second)

    # Deleted: gone from the list, its calls fail, a second delete is a not-found.
    call(server, "DeleteAccessKey", AccessKeyId=k.AccessKeyId, TargetUin=added.Uin)
    assert [x.AccessKeyId for x in call(server, "ListAccessKeys", TargetUin=added.Uin).AccessKeys] == \
        [added.SecretId]
    assert code_of(lambda: describe(second)) == "AuthFailure.SecretIdNotFound"
    describe(first)
    assert cam_code(server, "DeleteAccessKey", AccessKeyId=k.AccessKeyId, TargetUin=added.Uin) == \
        "ResourceNotFound.SecretNotExist"
    assert cam_code(server, "UpdateAccessKey", AccessKeyId=k.AccessKeyId, Status="Active",
                    TargetUin=added.Uin) == "ResourceNotFound.SecretNotExist"
    assert cam_code(server, "UpdateAccessKey", AccessKeyId=added.SecretId, Status="Paused",
                    TargetUin=added.Uin) == "InvalidParameter.ParamError"

    # With the last key deleted the user may go without Force.
    call(server, "DeleteAccessKey", AccessKeyId=added.SecretId, TargetUin=added.Uin)
    assert call(server, "ListAccessKeys", TargetUin=added.Uin).AccessKeys == []
    call(server, "DeleteUser", Name=name)


def test_a_key_of_another_user_is_not_found_under_this_one(server):
    _, a = add_user(server)
    _, b = add_user(server)
    assert cam_code(server, "DeleteAccessKey", AccessKeyId=a.SecretId, TargetUin=b.Uin) == \
        "ResourceNotFound.SecretNotExist"
    assert cam_code(server, "UpdateAccessKey", AccessKeyId=a.SecretId, Status="Inactive", TargetUin=b.Uin) == \
        "ResourceNotFound.SecretNotExist"
    describe_ok = cvm(server, credential.Credential(a.SecretId, a.SecretKey))
    call(server, "AttachUserPolicy", PolicyId=preset_id(server, "QcloudCVMReadOnlyAccess"), AttachUin=a.Uin)
    describe(describe_ok)


# ----- policies ---------------------------------------------------------------------------


def test_get_policy_custom_and_preset(server):
    doc = {"version": "2.0", "statement": allow("cvm:DescribeImages")}
    pid = custom_policy(server, doc["statement"], "tour get")
    p = call(server, "GetPolicy", PolicyId=pid)
    assert p.Type == 1 and isinstance(p.Type, int)
    assert p.Description == "tour get" and p.PresetAlias == ""
    assert CAM_TIME.match(p.AddTime) and CAM_TIME.match(p.UpdateTime)
    assert json.loads(p.PolicyDocument) == doc
    assert p.IsServiceLinkedRolePolicy == 0 and p.Tags == []

    preset = preset_id(server, "QcloudCVMReadOnlyAccess")
    q = call(server, "GetPolicy", PolicyId=preset)
    assert (q.PolicyName, q.Type) == ("QcloudCVMReadOnlyAccess", 2)
    assert json.loads(q.PolicyDocument)["statement"]

    assert cam_code(server, "GetPolicy", PolicyId=999999999) == "ResourceNotFound.PolicyIdNotFound"


def test_update_policy_changes_what_is_allowed_at_once(server):
    pid = custom_policy(server, allow("cvm:DescribeImages"))
    name = call(server, "GetPolicy", PolicyId=pid).PolicyName
    _, u = add_user(server)
    call(server, "AttachUserPolicy", PolicyId=pid, AttachUin=u.Uin)
    client = cvm(server, credential.Credential(u.SecretId, u.SecretKey))
    describe(client)
    assert code_of(lambda: quota(client)) == "UnauthorizedOperation"

    r = call(server, "UpdatePolicy", PolicyId=pid, PolicyDocument=json.dumps(
        {"version": "2.0", "statement": allow("cvm:DescribeImageQuota")}), Description="now quota")
    assert r.PolicyId == pid and isinstance(r.PolicyId, int)
    quota(client)
    assert code_of(lambda: describe(client)) == "UnauthorizedOperation"
    got = call(server, "GetPolicy", PolicyId=pid)
    assert got.Description == "now quota" and got.PolicyName == name
    assert json.loads(got.PolicyDocument)["statement"][0]["action"] == ["cvm:DescribeImageQuota"]

    # By name, description only: the document stays.
    assert call(server, "UpdatePolicy", PolicyName=name, Description="by name").PolicyId == pid
    got = call(server, "GetPolicy", PolicyId=pid)
    assert got.Description == "by name"
    assert json.loads(got.PolicyDocument)["statement"][0]["action"] == ["cvm:DescribeImageQuota"]

    assert cam_code(server, "UpdatePolicy", PolicyId=pid, PolicyDocument=json.dumps(
        {"version": "2.0", "statement": [{"effect": "maybe", "action": ["cvm:*"], "resource": ["*"]}]})) == \
        "InvalidParameter.EffectError"
    quota(client)
    assert cam_code(server, "UpdatePolicy", PolicyId=preset_id(server, "QcloudCVMReadOnlyAccess"),
                    Description="x") == "InvalidParameter.PolicyIdError"
    assert cam_code(server, "UpdatePolicy", PolicyId=999999999, Description="x") == \
        "ResourceNotFound.PolicyIdNotFound"


def test_delete_policy_by_id_list(server):
    a = custom_policy(server, allow("cvm:DescribeImages"))
    b = custom_policy(server, allow("cvm:DescribeImageQuota"))
    keep = custom_policy(server, allow("cvm:DescribeImages"))
    _, u = add_user(server)
    call(server, "AttachUserPolicy", PolicyId=a, AttachUin=u.Uin)
    client = cvm(server, credential.Credential(u.SecretId, u.SecretKey))
    describe(client)

    # One unknown or preset id in the list: refused, and nothing deleted.
    assert cam_code(server, "DeletePolicy", PolicyId=[a, 999999999]) == "ResourceNotFound.PolicyIdNotFound"
    assert cam_code(server, "DeletePolicy", PolicyId=[b, preset_id(server, "QcloudCVMReadOnlyAccess")]) == \
        "InvalidParameter.PolicyIdError"
    call(server, "GetPolicy", PolicyId=a)
    call(server, "GetPolicy", PolicyId=b)

    call(server, "DeletePolicy", PolicyId=[a, b])
    for pid in (a, b):
        assert cam_code(server, "GetPolicy", PolicyId=pid) == "ResourceNotFound.PolicyIdNotFound"
    local = {p.PolicyId for p in call(server, "ListPolicies", Scope="Local", Rp=200).List}
    assert a not in local and b not in local and keep in local
    # The attached one is detached with it and its permission gone.
    assert call(server, "ListAttachedUserPolicies", TargetUin=u.Uin).TotalNum == 0
    assert code_of(lambda: describe(client)) == "UnauthorizedOperation"
    assert cam_code(server, "DeletePolicy", PolicyId=[a]) == "ResourceNotFound.PolicyIdNotFound"


def test_detach_user_policy_takes_the_permission_away_at_once(server):
    _, u = add_user(server)
    read_only = preset_id(server, "QcloudCVMReadOnlyAccess")
    mine = custom_policy(server, allow("cvm:DescribeImageQuota"))
    call(server, "AttachUserPolicy", PolicyId=read_only, AttachUin=u.Uin)
    call(server, "AttachUserPolicy", PolicyId=mine, AttachUin=u.Uin)
    client = cvm(server, credential.Credential(u.SecretId, u.SecretKey))
    describe(client)
    assert call(server, "ListAttachedUserPolicies", TargetUin=u.Uin).TotalNum == 2

    call(server, "DetachUserPolicy", PolicyId=read_only, DetachUin=u.Uin)
    assert code_of(lambda: describe(client)) == "UnauthorizedOperation"
    quota(client)
    left = call(server, "ListAttachedUserPolicies", TargetUin=u.Uin)
    assert left.TotalNum == 1 and [p.PolicyId for p in left.List] == [mine]
    assert left.List[0].PolicyType == "User"

    assert cam_code(server, "DetachUserPolicy", PolicyId=read_only, DetachUin=u.Uin) == "ResourceNotFound.NotFound"
    assert cam_code(server, "DetachUserPolicy", PolicyId=mine, DetachUin=4000000000) == \
        "ResourceNotFound.UserNotExist"
    assert cam_code(server, "DetachUserPolicy", PolicyId=999999999, DetachUin=u.Uin) == \
        "ResourceNotFound.PolicyIdNotFound"


# ----- roles ------------------------------------------------------------------------------


def test_get_role_and_describe_role_list(server):
    name, role_id = make_role(server)
    by_name = call(server, "GetRole", RoleName=name).RoleInfo
    by_id = call(server, "GetRole", RoleId=role_id).RoleInfo
    assert isinstance(by_name, m.RoleInfo)
    for info in (by_name, by_id):
        assert (info.RoleId, info.RoleName, info.Description) == (role_id, name, "tour")
        assert info.SessionDuration == 3600 and isinstance(info.SessionDuration, int)
        assert info.ConsoleLogin == 0 and isinstance(info.ConsoleLogin, int)
        assert CAM_TIME.match(info.AddTime) and CAM_TIME.match(info.UpdateTime)
        assert info.RoleArn == f"qcs::cam::uin/{ACCOUNT_1}:roleName/{name}"
        assert json.loads(info.PolicyDocument) == json.loads(trust(f"qcs::cam::uin/{ACCOUNT_1}:root"))

    listed = call(server, "DescribeRoleList", Page=1, Rp=200)
    assert isinstance(listed.TotalNum, int) and listed.TotalNum == len(listed.List)
    assert [r.RoleId for r in listed.List if r.RoleName == name] == [role_id]
    one = call(server, "DescribeRoleList", Page=1, Rp=1)
    assert len(one.List) == 1 and one.TotalNum == listed.TotalNum
    assert cam_code(server, "DescribeRoleList", Page=1, Rp=0) == "InvalidParameter.ParamError"
    assert cam_code(server, "GetRole", RoleName=unique("norole")) == "InvalidParameter.RoleNotExist"
    assert cam_code(server, "CreateRole", RoleName=name, PolicyDocument=trust(
        f"qcs::cam::uin/{ACCOUNT_1}:root")) == "InvalidParameter.RoleNameInUse"


def test_role_policies_attach_list_and_detach(server):
    name, role_id = make_role(server)
    read_only = preset_id(server, "QcloudCVMReadOnlyAccess")
    mine = custom_policy(server, allow("cvm:DescribeImageQuota"), "role quota")
    call(server, "AttachRolePolicy", PolicyId=read_only, AttachRoleName=name)
    call(server, "AttachRolePolicy", PolicyId=mine, AttachRoleId=role_id)

    listed = call(server, "ListAttachedRolePolicies", RoleName=name, Page=1, Rp=20)
    assert listed.TotalNum == 2 and isinstance(listed.TotalNum, int)
    assert all(isinstance(p, m.AttachedPolicyOfRole) for p in listed.List)
    by_id = {p.PolicyId: p for p in listed.List}
    assert set(by_id) == {read_only, mine}
    assert (by_id[read_only].PolicyType, by_id[mine].PolicyType) == ("QCS", "User")
    assert by_id[mine].Description == "role quota" and CAM_TIME.match(by_id[mine].AddTime)
    qcs = call(server, "ListAttachedRolePolicies", RoleId=role_id, Page=1, Rp=20, PolicyType="QCS")
    assert qcs.TotalNum == 1 and qcs.List[0].PolicyName == "QcloudCVMReadOnlyAccess"
    kw = call(server, "ListAttachedRolePolicies", RoleName=name, Page=1, Rp=20, Keyword="readonly")
    assert [p.PolicyId for p in kw.List] == [read_only]

    session = cvm(server, assume(server, name))
    describe(session)
    quota(session)

    call(server, "DetachRolePolicy", PolicyId=read_only, DetachRoleName=name)
    left = call(server, "ListAttachedRolePolicies", RoleName=name, Page=1, Rp=20)
    assert left.TotalNum == 1 and left.List[0].PolicyId == mine
    # A session already issued loses the detached permission at once.
    assert code_of(lambda: describe(session)) == "UnauthorizedOperation"
    quota(session)
    call(server, "DetachRolePolicy", PolicyName=call(server, "GetPolicy", PolicyId=mine).PolicyName,
         DetachRoleId=role_id)
    assert call(server, "ListAttachedRolePolicies", RoleName=name, Page=1, Rp=20).TotalNum == 0

    assert cam_code(server, "DetachRolePolicy", PolicyId=mine, DetachRoleName=name) == "ResourceNotFound.NotFound"
    assert cam_code(server, "DetachRolePolicy", PolicyId=mine, DetachRoleName=unique("norole")) == \
        "InvalidParameter.RoleNotExist"
    assert cam_code(server, "ListAttachedRolePolicies", RoleName=unique("norole"), Page=1, Rp=20) == \
        "InvalidParameter.RoleNotExist"
    assert cam_code(server, "ListAttachedRolePolicies", RoleName=name, Page=1, Rp=20, PolicyType="Other") == \
        "InvalidParameter.ParamError"


def test_delete_role(server):
    name, role_id = make_role(server)
    call(server, "AttachRolePolicy", PolicyId=preset_id(server, "QcloudCVMReadOnlyAccess"), AttachRoleName=name)
    assume(server, name)
    call(server, "DeleteRole", RoleId=role_id)
    assert cam_code(server, "GetRole", RoleName=name) == "InvalidParameter.RoleNotExist"
    assert cam_code(server, "GetRole", RoleId=role_id) == "InvalidParameter.RoleNotExist"
    assert name not in [r.RoleName for r in call(server, "DescribeRoleList", Page=1, Rp=200).List]
    assert code_of(lambda: assume(server, name)) == "ResourceNotFound.RoleNotFound"
    assert cam_code(server, "DeleteRole", RoleName=name) == "InvalidParameter.RoleNotExist"

    # By name, too.
    other, _ = make_role(server)
    call(server, "DeleteRole", RoleName=other)
    assert cam_code(server, "GetRole", RoleName=other) == "InvalidParameter.RoleNotExist"


def test_update_assume_role_policy_changes_who_may_assume(server):
    # Trusting the other account only: this account's root is refused.
    name, role_id = make_role(server, [f"qcs::cam::uin/{ACCOUNT_2}:root"])
    call(server, "AttachRolePolicy", PolicyId=preset_id(server, "QcloudCVMReadOnlyAccess"), AttachRoleName=name)
    assert code_of(lambda: assume(server, name)) == "UnauthorizedOperation"

    call(server, "UpdateAssumeRolePolicy", RoleName=name, PolicyDocument=trust(f"qcs::cam::uin/{ACCOUNT_1}:root"))
    describe(cvm(server, assume(server, name)))
    info = call(server, "GetRole", RoleId=role_id).RoleInfo
    assert json.loads(info.PolicyDocument) == json.loads(trust(f"qcs::cam::uin/{ACCOUNT_1}:root"))

    # Trusting one sub-user: they may (with sts:AssumeRole allowed), another and the root may not.
    _, alice = add_user(server)
    _, bob = add_user(server)
    sts_allow = custom_policy(server, allow("sts:AssumeRole"))
    for u in (alice, bob):
        call(server, "AttachUserPolicy", PolicyId=sts_allow, AttachUin=u.Uin)
    call(server, "UpdateAssumeRolePolicy", RoleId=role_id,
         PolicyDocument=trust(f"qcs::cam::uin/{ACCOUNT_1}:uin/{alice.Uin}"))
    describe(cvm(server, assume(server, name, credential.Credential(alice.SecretId, alice.SecretKey))))
    assert code_of(lambda: assume(server, name, credential.Credential(bob.SecretId, bob.SecretKey))) == \
        "UnauthorizedOperation"
    assert code_of(lambda: assume(server, name)) == "UnauthorizedOperation"

    # A principal of a type CAM has not (only `qcs` and `service`).
    assert cam_code(server, "UpdateAssumeRolePolicy", RoleName=name, PolicyDocument=json.dumps(
        {"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
                                          "principal": {"aws": [f"qcs::cam::uin/{ACCOUNT_1}:root"]}}]})) == \
        "InvalidParameter.PrincipalError"
    assert cam_code(server, "UpdateAssumeRolePolicy", RoleName=name, PolicyDocument="{") == \
        "InvalidParameter.PolicyDocumentError"
    assert cam_code(server, "UpdateAssumeRolePolicy", RoleName=unique("norole"),
                    PolicyDocument=trust(f"qcs::cam::uin/{ACCOUNT_1}:root")) == "InvalidParameter.RoleNotExist"
    # The refused updates changed nothing.
    describe(cvm(server, assume(server, name, credential.Credential(alice.SecretId, alice.SecretKey))))


# ----- tccli ------------------------------------------------------------------------------


def test_tccli_cam_add_user_and_list_users(server):
    def run(action, *args):
        cmd = [TCCLI, "cam", action, "--region", REGION, "--endpoint", f"http://{server.endpoint}",
               "--secretId", SECRET_ID_1, "--secretKey", SECRET_KEY_1, *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, HOME=os.environ.get("TCCLI_HOME", "/tmp")))
        return p.returncode, p.stdout + p.stderr

    name = unique("cli")
    code, out = run("AddUser", "--Name", name, "--Remark", "from tccli", "--UseApi", "1")
    assert code == 0, out
    added = json.loads(out)
    assert isinstance(added["Uin"], int) and added["Name"] == name and added["SecretId"].startswith("AKID")
    code, out = run("ListUsers")
    assert code == 0, out
    mine = [u for u in json.loads(out)["Data"] if u["Name"] == name]
    assert len(mine) == 1 and mine[0]["Uin"] == added["Uin"] and mine[0]["Remark"] == "from tccli"
    code, out = run("AddUser", "--Name", name)
    assert code == 255 and "code:InvalidParameter.SubUserNameInUse" in out, out
