"""Alibaba Cloud access control through the official SDKs against the real binary: RAM
(alibabacloud-ram20150501) sets up sub-users, policies and roles; IMM (alibabacloud-imm20200930)
calls are allowed or denied by those policies; STS (alibabacloud-sts20150401) issues role
sessions whose token the Tea client and the legacy aliyun-python-sdk-core send."""
import json

import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException

from conftest import ACCOUNT_1, AK_ID_1, AK_SECRET_1, unique
from imm_client import snake


def config(server, ak, secret, token=None):
    return open_api_models.Config(access_key_id=ak, access_key_secret=secret, security_token=token,
                                  endpoint=server.endpoint, protocol="http", region_id="cn-hangzhou",
                                  read_timeout=30000, connect_timeout=30000)


def ram(server):
    return RamClient(config(server, AK_ID_1, AK_SECRET_1))


def imm(server, ak, secret, token=None):
    return ImmClient(config(server, ak, secret, token))


def call(client, models, action, **params):
    req = getattr(models, action + "Request")().from_map(params)
    return getattr(client, snake(action))(req).body.to_map()


def imm_call(client, action, **params):
    return call(client, imm_models, action, **params)


def denied(client, action, **params):
    with pytest.raises(ClientException) as info:
        imm_call(client, action, **params)
    e = info.value
    assert e.code == "AccessDenied", e
    assert e.status_code == 403
    d = e.access_denied_detail
    for k in ["AuthAction", "NoPermissionType", "EncodedDiagnosticMessage", "AuthPrincipalType",
              "AuthPrincipalDisplayName", "AuthPrincipalOwnerId", "PolicyType"]:
        assert d.get(k), (k, d)
    assert d["AuthAction"] == "imm:" + action
    return e


def decode(server, e):
    r = call(ram(server), ram_models, "DecodeDiagnosticMessage",
             EncodedDiagnosticMessage=e.access_denied_detail["EncodedDiagnosticMessage"])
    return r["DecodedDiagnosticMessage"]


def user(server, system=None, document=None):
    """A new sub-user with one key and a system policy or a custom document; its IMM client."""
    r = ram(server)
    name = unique("u")
    call(r, ram_models, "CreateUser", UserName=name)
    k = call(r, ram_models, "CreateAccessKey", UserName=name)["AccessKey"]
    if document is not None:
        pname = unique("pol")
        call(r, ram_models, "CreatePolicy", PolicyName=pname, PolicyDocument=json.dumps(document))
        call(r, ram_models, "AttachPolicyToUser", PolicyType="Custom", PolicyName=pname, UserName=name)
    if system is not None:
        call(r, ram_models, "AttachPolicyToUser", PolicyType="System", PolicyName=system, UserName=name)
    return imm(server, k["AccessKeyId"], k["AccessKeySecret"]), name


def allow(resource, action="imm:*", condition=None, effect="Allow"):
    s = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition
    return s


def doc(*statements):
    return {"Version": "1", "Statement": list(statements)}


@pytest.fixture(scope="module")
def world(server):
    """A project with two datasets, made by the account's root key."""
    root = server.imm()
    p = unique("proj")
    root.call("CreateProject", ProjectName=p)
    for d in ["d1", "d2"]:
        root.call("CreateDataset", ProjectName=p, DatasetName=d)
    return p


def test_a_read_only_user_reads_and_every_write_is_denied_with_a_decodable_detail(server, world):
    c, name = user(server, system="AliyunIMMReadOnlyAccess")
    assert any(x["ProjectName"] == world for x in imm_call(c, "ListProjects")["Projects"])
    assert imm_call(c, "GetProject", ProjectName=world)["Project"]["ProjectName"] == world
    imm_call(c, "QueryFigureClusters", ProjectName=world, DatasetName="d1")
    writes = [
        ("CreateProject", dict(ProjectName=unique("nope"))),
        ("UpdateProject", dict(ProjectName=world, Description="x")),
        ("DeleteProject", dict(ProjectName=world)),
        ("CreateDataset", dict(ProjectName=world, DatasetName="d9")),
        ("UpdateFigureCluster", dict(ProjectName=world, DatasetName="d1", FigureCluster={"ObjectId": "c1"})),
        ("CreateFigureClusteringTask", dict(ProjectName=world, DatasetName="d1")),
        ("DeleteDataset", dict(ProjectName=world, DatasetName="d1")),
    ]
    for action, params in writes:
        e = denied(c, action, **params)
        assert e.access_denied_detail["NoPermissionType"] == "ImplicitDeny"
        assert e.access_denied_detail["AuthPrincipalDisplayName"] == name
    e = denied(c, "UpdateFigureCluster", ProjectName=world, DatasetName="d1", FigureCluster={"ObjectId": "c1"})
    d = decode(server, e)
    assert d["AuthAction"] == "imm:UpdateFigureCluster"
    assert d["AuthResource"] == f"acs:imm:cn-hangzhou:{ACCOUNT_1}:project/{world}/dataset/d1"
    assert d["ExplicitDeny"] is False
    assert d["AuthPrincipal"]["AuthPrincipalDisplayName"] == name


def test_a_user_allowed_on_one_dataset_is_denied_on_the_next(server, world):
    c, _ = user(server, document=doc(allow(f"acs:imm:*:{ACCOUNT_1}:project/{world}/dataset/d1")))
    imm_call(c, "GetDataset", ProjectName=world, DatasetName="d1")
    imm_call(c, "QueryFigureClusters", ProjectName=world, DatasetName="d1")
    e = denied(c, "GetDataset", ProjectName=world, DatasetName="d2")
    assert decode(server, e)["AuthResource"].endswith(f"project/{world}/dataset/d2")


def test_an_explicit_deny_beats_an_allow(server, world):
    c, _ = user(server, document=doc(
        allow("*"),
        allow(f"acs:imm:*:*:project/{world}/dataset/d2", action="imm:GetDataset", effect="Deny"),
    ))
    imm_call(c, "GetDataset", ProjectName=world, DatasetName="d1")
    e = denied(c, "GetDataset", ProjectName=world, DatasetName="d2")
    assert e.access_denied_detail["NoPermissionType"] == "ExplicitDeny"
    assert decode(server, e)["ExplicitDeny"] is True


def test_wildcards_in_resources(server, world):
    c, _ = user(server, document=doc(
        allow(f"acs:imm:*:{ACCOUNT_1}:project/{world}/dataset/d?", action="imm:GetDataset"),
        allow(f"acs:imm:*:{ACCOUNT_1}:project/{world[:3]}*", action="imm:GetProject"),
    ))
    imm_call(c, "GetDataset", ProjectName=world, DatasetName="d1")
    imm_call(c, "GetDataset", ProjectName=world, DatasetName="d2")
    imm_call(c, "GetProject", ProjectName=world)
    denied(c, "GetDataset", ProjectName=world, DatasetName="d10")
    denied(c, "ListDatasets", ProjectName=world)


def test_a_source_ip_condition(server, world):
    here, _ = user(server, document=doc(allow("*", condition={"IpAddress": {"acs:SourceIp": "127.0.0.1/32"}})))
    imm_call(here, "GetProject", ProjectName=world)
    away, _ = user(server, document=doc(allow("*", condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}})))
    e = denied(away, "GetProject", ProjectName=world)
    assert e.access_denied_detail["NoPermissionType"] == "ImplicitDeny"


def test_a_current_time_window(server, world):
    past, _ = user(server, document=doc(allow("*", condition={
        "DateLessThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}})))
    denied(past, "GetProject", ProjectName=world)
    future, _ = user(server, document=doc(allow("*", condition={
        "DateLessThan": {"acs:CurrentTime": "2999-01-01T00:00:00Z"}})))
    imm_call(future, "GetProject", ProjectName=world)


@pytest.fixture(scope="module")
def role(server):
    r = ram(server)
    name = unique("role")
    trust = doc({"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{ACCOUNT_1}:root"]}})
    created = call(r, ram_models, "CreateRole", RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                   MaxSessionDuration=3600)["Role"]
    call(r, ram_models, "AttachPolicyToRole", PolicyType="System", PolicyName="AliyunIMMReadOnlyAccess",
         RoleName=name)
    return created


def sts(server, ak=AK_ID_1, secret=AK_SECRET_1, token=None):
    return StsClient(config(server, ak, secret, token))


def assume(server, role, **extra):
    req = sts_models.AssumeRoleRequest(role_arn=role["Arn"], role_session_name="sdk-session", **extra)
    return sts(server).assume_role(req).body.to_map()


def test_a_role_session_narrowed_by_a_session_policy(server, world, role):
    body = assume(server, role, duration_seconds=900)
    assert body["AssumedRoleUser"]["Arn"] == f"{role['Arn']}/sdk-session"
    assert body["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:sdk-session"
    c = body["Credentials"]
    assert c["AccessKeyId"].startswith("STS.")
    session = imm(server, c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"])
    imm_call(session, "GetProject", ProjectName=world)
    e = denied(session, "CreateProject", ProjectName=unique("nope"))
    assert e.access_denied_detail["AuthPrincipalType"] == "AssumedRoleUser"
    me = sts(server, c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"]).get_caller_identity().body
    assert me.identity_type == "AssumedRoleUser"
    assert me.role_id == role["RoleId"]
    assert me.account_id == ACCOUNT_1

    narrow = json.dumps(doc(allow("*", action="imm:ListProjects")))
    n = assume(server, role, policy=narrow)["Credentials"]
    narrowed = imm(server, n["AccessKeyId"], n["AccessKeySecret"], n["SecurityToken"])
    imm_call(narrowed, "ListProjects")
    e = denied(narrowed, "GetProject", ProjectName=world)


def test_tampered_tokens_and_mismatched_keys_are_refused(server, world, role):
    c = assume(server, role)["Credentials"]
    other = assume(server, role)["Credentials"]
    tok = c["SecurityToken"]
    mid = len(tok) // 2
    tampered = tok[:mid] + ("B" if tok[mid] == "A" else "A") + tok[mid + 1:]
    cases = [
        (imm(server, c["AccessKeyId"], c["AccessKeySecret"], tampered), "InvalidSecurityToken.Malformed"),
        (imm(server, other["AccessKeyId"], other["AccessKeySecret"], tok), "InvalidSecurityToken.MismatchWithAccessKey"),
    ]
    for client, code in cases:
        with pytest.raises(ClientException) as info:
            imm_call(client, "GetProject", ProjectName=world)
        assert info.value.code == code
        assert info.value.status_code == 400


def test_assume_role_refusals(server, role):
    for extra, code in [(dict(duration_seconds=7200), "InvalidParameter.DurationSeconds"),
                        (dict(policy='{"Version":"1","Statement":"x"}'), "InvalidParameter.PolicyGrammar")]:
        with pytest.raises(ClientException) as info:
            assume(server, role, **extra)
        assert info.value.code == code
    with pytest.raises(ClientException) as info:
        assume(server, {"Arn": f"acs:ram::{ACCOUNT_1}:role/missing-role"})
    assert (info.value.code, info.value.status_code) == ("EntityNotExist.Role", 404)


def test_the_legacy_core_sdk_calls_imm_with_an_sts_token(server, world, role):
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkimm.request.v20200930.GetProjectRequest import GetProjectRequest

    c = assume(server, role)["Credentials"]
    client = AcsClient(region_id="cn-hangzhou", auto_retry=False, timeout=30,
                       credential=StsTokenCredential(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"]))
    req = GetProjectRequest()
    req.set_ProjectName(world)
    req.set_endpoint(server.endpoint)
    req.set_protocol_type("http")
    body = json.loads(client.do_action_with_exception(req))
    assert body["Project"]["ProjectName"] == world


def test_ram_reads_through_the_sdk(server):
    r = ram(server)
    c, name = user(server, system="AliyunIMMReadOnlyAccess")
    keys = call(r, ram_models, "ListAccessKeys", UserName=name)["AccessKeys"]["AccessKey"]
    assert len(keys) == 1 and "AccessKeySecret" not in keys[0] and keys[0]["Status"] == "Active"
    pols = call(r, ram_models, "ListPoliciesForUser", UserName=name)["Policies"]["Policy"]
    assert [(p["PolicyName"], p["PolicyType"]) for p in pols] == [("AliyunIMMReadOnlyAccess", "System")]
    assert pols[0]["AttachDate"].endswith("Z")
    g = call(r, ram_models, "GetPolicy", PolicyType="System", PolicyName="AliyunIMMReadOnlyAccess")
    assert g["DefaultPolicyVersion"]["VersionId"] == "v1" and g["DefaultPolicyVersion"]["IsDefaultVersion"]
    users = call(r, ram_models, "ListUsers", MaxItems=1000)
    assert users["IsTruncated"] is False
    assert name in [u["UserName"] for u in users["Users"]["User"]]
    with pytest.raises(ClientException) as info:
        call(r, ram_models, "CreateUser", UserName=name)
    assert (info.value.code, info.value.status_code) == ("EntityAlreadyExists.User", 409)
