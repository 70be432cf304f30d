"""A tour of every RAM 2015-05-01 action cloudtwin implements, through the official typed SDK
(alibabacloud-ram20150501 1.3.0) against the real binary: each response model's fields as the
SDK parses them, each action's lifecycle effect on what IMM and STS then allow, and at least one
error code per action family. The last test sends one action through the legacy
aliyun-python-sdk-core CommonRequest."""
import json
import os
import re

import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from alibabacloud_ram20150501 import models as m
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_util import models as util_models

from conftest import ACCOUNT_1, AK_ID_1, AK_SECRET_1, ROOT, unique

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def config(server, ak=AK_ID_1, secret=AK_SECRET_1, token=None):
    return open_api_models.Config(access_key_id=ak, access_key_secret=secret, security_token=token,
                                  endpoint=server.endpoint, protocol="http", region_id="cn-hangzhou",
                                  read_timeout=30000, connect_timeout=30000)


def ram(server):
    return RamClient(config(server))


def refused(code, status, fn, *args, **kwargs):
    with pytest.raises(ClientException) as info:
        fn(*args, **kwargs)
    assert (info.value.code, info.value.status_code) == (code, status), info.value
    return info.value


def doc(*statements):
    return {"Version": "1", "Statement": list(statements)}


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def imm(server, ak, secret, token=None):
    return ImmClient(config(server, ak, secret, token))


def list_projects(c):
    return c.list_projects(imm_models.ListProjectsRequest()).body


def get_project(c, name):
    return c.get_project(imm_models.GetProjectRequest(project_name=name)).body


def denied_imm(fn, *args):
    e = refused("AccessDenied", 403, fn, *args)
    return e


def new_user(r, **extra):
    name = unique("tour-u")
    r.create_user(m.CreateUserRequest(user_name=name, **extra))
    k = r.create_access_key(m.CreateAccessKeyRequest(user_name=name)).body.access_key
    return name, k


def new_policy(r, document, description=""):
    name = unique("tour-p")
    r.create_policy(m.CreatePolicyRequest(policy_name=name, policy_document=json.dumps(document),
                                          description=description))
    return name


def attach_user(r, name, policy, kind="Custom"):
    r.attach_policy_to_user(m.AttachPolicyToUserRequest(policy_type=kind, policy_name=policy, user_name=name))


@pytest.fixture(scope="module")
def project(server):
    p = unique("tour-proj")
    server.imm().call("CreateProject", ProjectName=p)
    return p


def test_every_ram_action_is_called_in_this_file():
    router = open(os.path.join(ROOT, "src", "dialect", "aliyun", "router.rs")).read()
    block = re.search(r"RAM_ACTIONS: &\[&str\] = &\[(.*?)\];", router, re.S).group(1)
    actions = re.findall(r'"(\w+)"', block)
    assert len(actions) >= 30
    here = open(__file__).read()
    missing = [a for a in actions
               if f".{re.sub(r'(?<!^)(?=[A-Z])', '_', a).lower()}(" not in here
               and f".{re.sub(r'(?<!^)(?=[A-Z])', '_', a).lower()}_with_options(" not in here]
    assert missing == []


def test_users_created_read_updated_listed_and_deleted(server, project):
    r = ram(server)
    name, k = new_user(r, display_name="Tour One", comments="first", email="t@example.com",
                       mobile_phone="86-18600000000")
    u = r.get_user(m.GetUserRequest(user_name=name)).body.user
    assert (u.user_name, u.display_name, u.comments, u.email, u.mobile_phone) == \
        (name, "Tour One", "first", "t@example.com", "86-18600000000")
    assert u.user_id and DATE.match(u.create_date) and DATE.match(u.update_date)

    runtime = util_models.RuntimeOptions()
    up = r.update_user_with_options(m.UpdateUserRequest(user_name=name, new_display_name="Tour Two",
                                                        new_comments="second"), runtime).body.user
    assert (up.user_name, up.display_name, up.comments, up.user_id) == (name, "Tour Two", "second", u.user_id)
    assert up.create_date == u.create_date and up.update_date >= u.update_date
    got = r.get_user(m.GetUserRequest(user_name=name)).body.user
    assert (got.display_name, got.comments) == ("Tour Two", "second")
    refused("InvalidParameter.NewUserName", 400, r.update_user,
            m.UpdateUserRequest(user_name=name, new_user_name=name + "-x"))
    refused("EntityNotExist.User", 404, r.update_user,
            m.UpdateUserRequest(user_name=unique("nobody"), new_comments="x"))

    other, _ = new_user(r)
    every = r.list_users(m.ListUsersRequest(max_items=1000)).body
    assert every.is_truncated is False
    names = [x.user_name for x in every.users.user]
    assert name in names and other in names and names == sorted(names)
    first = r.list_users(m.ListUsersRequest(max_items=1)).body
    assert first.is_truncated is True and len(first.users.user) == 1 and first.marker
    rest = r.list_users(m.ListUsersRequest(max_items=1000, marker=first.marker)).body
    assert [x.user_name for x in first.users.user + rest.users.user] == names
    refused("InvalidParameter.MaxItems", 400, r.list_users, m.ListUsersRequest(max_items=1001))

    # The user's key works until the user is deleted, then is refused at once.
    c = imm(server, k.access_key_id, k.access_key_secret)
    denied_imm(list_projects, c)
    r.delete_user(m.DeleteUserRequest(user_name=name))
    refused("InvalidAccessKeyId.NotFound", 404, list_projects, c)
    refused("EntityNotExist.User", 404, r.get_user, m.GetUserRequest(user_name=name))
    refused("EntityNotExist.User", 404, r.delete_user, m.DeleteUserRequest(user_name=name))
    assert name not in [x.user_name for x in r.list_users(m.ListUsersRequest(max_items=1000)).body.users.user]
    refused("InvalidParameter.UserName", 400, r.get_user, m.GetUserRequest(user_name="bad name!"))


def test_an_inactive_key_is_refused_and_a_deleted_key_is_gone(server, project):
    r = ram(server)
    name, k = new_user(r)
    attach_user(r, name, "AliyunIMMReadOnlyAccess", "System")
    assert DATE.match(k.create_date) and k.status == "Active" and k.access_key_secret
    c = imm(server, k.access_key_id, k.access_key_secret)
    assert get_project(c, project).project.project_name == project

    r.update_access_key(m.UpdateAccessKeyRequest(user_name=name, user_access_key_id=k.access_key_id,
                                                 status="Inactive"))
    keys = r.list_access_keys(m.ListAccessKeysRequest(user_name=name)).body.access_keys.access_key
    assert [(x.access_key_id, x.status) for x in keys] == [(k.access_key_id, "Inactive")]
    assert DATE.match(keys[0].create_date)
    refused("InvalidAccessKeyId.Inactive", 400, get_project, c, project)
    r.update_access_key(m.UpdateAccessKeyRequest(user_name=name, user_access_key_id=k.access_key_id,
                                                 status="Active"))
    assert get_project(c, project).project.project_name == project
    refused("InvalidParameter.Status", 400, r.update_access_key,
            m.UpdateAccessKeyRequest(user_name=name, user_access_key_id=k.access_key_id, status="Paused"))
    refused("EntityNotExist.User.AccessKey", 404, r.update_access_key,
            m.UpdateAccessKeyRequest(user_name=name, user_access_key_id="LTAInotakey0000000000",
                                     status="Inactive"))

    second = r.create_access_key(m.CreateAccessKeyRequest(user_name=name)).body.access_key
    r.delete_access_key_with_options(m.DeleteAccessKeyRequest(user_name=name, user_access_key_id=k.access_key_id),
                                     util_models.RuntimeOptions())
    keys = r.list_access_keys(m.ListAccessKeysRequest(user_name=name)).body.access_keys.access_key
    assert [x.access_key_id for x in keys] == [second.access_key_id]
    refused("InvalidAccessKeyId.NotFound", 404, get_project, c, project)
    assert get_project(imm(server, second.access_key_id, second.access_key_secret), project)
    refused("EntityNotExist.User.AccessKey", 404, r.delete_access_key,
            m.DeleteAccessKeyRequest(user_name=name, user_access_key_id=k.access_key_id))
    refused("MissingUserName", 400, r.list_access_keys, m.ListAccessKeysRequest())


def test_policy_versions_change_what_is_allowed_at_once(server, project):
    r = ram(server)
    name, k = new_user(r)
    pol = new_policy(r, doc(allow("imm:GetProject")), description="tour policy")
    attach_user(r, name, pol)
    c = imm(server, k.access_key_id, k.access_key_secret)
    get_project(c, project)
    denied_imm(list_projects, c)

    v2 = r.create_policy_version(m.CreatePolicyVersionRequest(
        policy_name=pol, policy_document=json.dumps(doc(allow("imm:ListProjects"))))).body.policy_version
    assert (v2.version_id, v2.is_default_version) == ("v2", False) and DATE.match(v2.create_date)
    assert json.loads(v2.policy_document) == doc(allow("imm:ListProjects"))
    denied_imm(list_projects, c)  # not the default: nothing changes

    v3 = r.create_policy_version(m.CreatePolicyVersionRequest(
        policy_name=pol, policy_document=json.dumps(doc(allow("imm:ListProjects"))),
        set_as_default=True)).body.policy_version
    assert (v3.version_id, v3.is_default_version) == ("v3", True)
    list_projects(c)
    denied_imm(get_project, c, project)

    g = r.get_policy(m.GetPolicyRequest(policy_type="Custom", policy_name=pol)).body
    assert g.policy.default_version == "v3" and g.default_policy_version.version_id == "v3"
    one = r.get_policy_version(m.GetPolicyVersionRequest(policy_type="Custom", policy_name=pol,
                                                         version_id="v1")).body.policy_version
    assert (one.version_id, one.is_default_version) == ("v1", False)
    assert json.loads(one.policy_document) == doc(allow("imm:GetProject")) and DATE.match(one.create_date)
    vs = r.list_policy_versions(m.ListPolicyVersionsRequest(policy_type="Custom", policy_name=pol)) \
        .body.policy_versions.policy_version
    assert [(v.version_id, v.is_default_version) for v in vs] == [("v1", False), ("v2", False), ("v3", True)]

    r.set_default_policy_version(m.SetDefaultPolicyVersionRequest(policy_name=pol, version_id="v1"))
    get_project(c, project)
    denied_imm(list_projects, c)
    assert r.get_policy(m.GetPolicyRequest(policy_type="Custom", policy_name=pol)).body.policy.default_version == "v1"
    refused("EntityNotExist.Policy.Version", 404, r.set_default_policy_version,
            m.SetDefaultPolicyVersionRequest(policy_name=pol, version_id="v9"))
    refused("InvalidParameter.VersionId", 400, r.set_default_policy_version,
            m.SetDefaultPolicyVersionRequest(policy_name=pol, version_id="one"))

    refused("DeleteConflict.Policy.Version.Default", 409, r.delete_policy_version,
            m.DeletePolicyVersionRequest(policy_name=pol, version_id="v1"))
    r.delete_policy_version(m.DeletePolicyVersionRequest(policy_name=pol, version_id="v2"))
    vs = r.list_policy_versions(m.ListPolicyVersionsRequest(policy_type="Custom", policy_name=pol)) \
        .body.policy_versions.policy_version
    assert [v.version_id for v in vs] == ["v1", "v3"]
    refused("EntityNotExist.Policy.Version", 404, r.get_policy_version,
            m.GetPolicyVersionRequest(policy_type="Custom", policy_name=pol, version_id="v2"))
    refused("EntityNotExist.Policy.Version", 404, r.delete_policy_version,
            m.DeletePolicyVersionRequest(policy_name=pol, version_id="v2"))
    refused("MalformedPolicyDocument", 400, r.create_policy_version,
            m.CreatePolicyVersionRequest(policy_name=pol, policy_document='{"Version":"1","Statement":"x"}'))
    refused("EntityNotExist.Policy", 404, r.create_policy_version,
            m.CreatePolicyVersionRequest(policy_name=unique("nopol"),
                                         policy_document=json.dumps(doc(allow("imm:*")))))

    # A system policy has one version, v1, and cannot be versioned.
    sv = r.get_policy_version(m.GetPolicyVersionRequest(policy_type="System", policy_name="AliyunIMMReadOnlyAccess",
                                                        version_id="v1")).body.policy_version
    assert sv.is_default_version is True and json.loads(sv.policy_document)["Statement"]
    ss = r.list_policy_versions(m.ListPolicyVersionsRequest(policy_type="System",
                                                            policy_name="AliyunIMMReadOnlyAccess"))
    assert [v.version_id for v in ss.body.policy_versions.policy_version] == ["v1"]
    for fn, req in [
        (r.create_policy_version, m.CreatePolicyVersionRequest(
            policy_name="AliyunIMMReadOnlyAccess", policy_document=json.dumps(doc(allow("imm:*"))))),
        (r.set_default_policy_version, m.SetDefaultPolicyVersionRequest(
            policy_name="AliyunIMMReadOnlyAccess", version_id="v1")),
        (r.delete_policy_version, m.DeletePolicyVersionRequest(
            policy_name="AliyunIMMReadOnlyAccess", version_id="v1")),
    ]:
        refused("NoPermission.SystemPolicy", 403, fn, req)


def test_list_policies_by_type_and_page(server):
    r = ram(server)
    name, _ = new_user(r)
    pol = new_policy(r, doc(allow("imm:GetProject")), description="listed")
    attach_user(r, name, pol)
    custom = r.list_policies(m.ListPoliciesRequest(policy_type="Custom", max_items=1000)).body
    assert custom.is_truncated is False
    mine = [p for p in custom.policies.policy if p.policy_name == pol]
    assert len(mine) == 1 and all(p.policy_type == "Custom" for p in custom.policies.policy)
    p = mine[0]
    assert (p.description, p.default_version, p.attachment_count) == ("listed", "v1", 1)
    assert DATE.match(p.create_date) and DATE.match(p.update_date)
    system = r.list_policies(m.ListPoliciesRequest(policy_type="System", max_items=1000)).body.policies.policy
    assert "AliyunIMMReadOnlyAccess" in [x.policy_name for x in system]
    assert all(x.policy_type == "System" for x in system) and pol not in [x.policy_name for x in system]
    both = r.list_policies(m.ListPoliciesRequest(max_items=1000)).body.policies.policy
    assert len(both) == len(system) + len(custom.policies.policy)
    page = r.list_policies(m.ListPoliciesRequest(max_items=1)).body
    assert page.is_truncated is True and len(page.policies.policy) == 1 and page.marker
    refused("InvalidParameter.PolicyType", 400, r.list_policies, m.ListPoliciesRequest(policy_type="Managed"))

    # A system policy counts the account's users and roles it is attached to.
    def system_count():
        listed = [x.attachment_count for x in r.list_policies(m.ListPoliciesRequest(
            policy_type="System", max_items=1000)).body.policies.policy if x.policy_name == "AliyunIMMReadOnlyAccess"]
        got = r.get_policy(m.GetPolicyRequest(policy_type="System", policy_name="AliyunIMMReadOnlyAccess"))
        assert listed == [got.body.policy.attachment_count]
        return listed[0]
    before = system_count()
    attach_user(r, name, "AliyunIMMReadOnlyAccess", "System")
    assert system_count() == before + 1
    r.detach_policy_from_user(m.DetachPolicyFromUserRequest(policy_type="System", policy_name="AliyunIMMReadOnlyAccess",
                                                            user_name=name))
    assert system_count() == before


def test_detaching_takes_the_permission_away_and_an_attached_policy_is_not_deleted(server, project):
    r = ram(server)
    name, k = new_user(r)
    pol = new_policy(r, doc(allow("imm:GetProject")))
    attach_user(r, name, pol)
    c = imm(server, k.access_key_id, k.access_key_secret)
    get_project(c, project)
    refused("DeleteConflict.Policy.User", 409, r.delete_policy, m.DeletePolicyRequest(policy_name=pol))
    assert r.get_policy(m.GetPolicyRequest(policy_type="Custom", policy_name=pol)).body.policy.attachment_count == 1

    r.detach_policy_from_user(m.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=pol, user_name=name))
    denied_imm(get_project, c, project)
    assert r.list_policies_for_user(m.ListPoliciesForUserRequest(user_name=name)).body.policies.policy == []
    refused("EntityNotExist.User.Policy", 404, r.detach_policy_from_user,
            m.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=pol, user_name=name))
    refused("EntityNotExist.User", 404, r.detach_policy_from_user,
            m.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=pol, user_name=unique("nobody")))

    r.delete_policy(m.DeletePolicyRequest(policy_name=pol))
    refused("EntityNotExist.Policy", 404, r.get_policy, m.GetPolicyRequest(policy_type="Custom", policy_name=pol))
    refused("EntityNotExist.Policy", 404, r.delete_policy, m.DeletePolicyRequest(policy_name=pol))
    refused("NoPermission.SystemPolicy", 403, r.delete_policy,
            m.DeletePolicyRequest(policy_name="AliyunIMMReadOnlyAccess"))
    assert pol not in [p.policy_name for p in
                       r.list_policies(m.ListPoliciesRequest(policy_type="Custom", max_items=1000))
                       .body.policies.policy]


def trust(*principals):
    return json.dumps(doc({"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": list(principals)}}))


def sts(server, ak=AK_ID_1, secret=AK_SECRET_1):
    return StsClient(config(server, ak, secret))


def assume(client, arn, **extra):
    return client.assume_role(sts_models.AssumeRoleRequest(role_arn=arn, role_session_name="tour", **extra)).body


def test_roles_read_listed_and_deleted_only_when_detached(server, project):
    r = ram(server)
    name = unique("tour-role")
    created = r.create_role(m.CreateRoleRequest(role_name=name, assume_role_policy_document=trust(
        f"acs:ram::{ACCOUNT_1}:root"), description="tour role", max_session_duration=3600)).body.role
    g = r.get_role(m.GetRoleRequest(role_name=name)).body.role
    assert (g.role_name, g.role_id, g.arn) == (name, created.role_id, f"acs:ram::{ACCOUNT_1}:role/{name}")
    assert (g.description, g.max_session_duration) == ("tour role", 3600)
    assert json.loads(g.assume_role_policy_document)["Statement"][0]["Principal"]["RAM"] == \
        [f"acs:ram::{ACCOUNT_1}:root"]
    assert DATE.match(g.create_date) and DATE.match(g.update_date)

    roles = r.list_roles(m.ListRolesRequest(max_items=1000)).body
    assert roles.is_truncated is False
    listed = [x for x in roles.roles.role if x.role_name == name]
    assert len(listed) == 1 and (listed[0].arn, listed[0].role_id, listed[0].max_session_duration) == \
        (g.arn, g.role_id, 3600)
    other = unique("tour-role")
    r.create_role(m.CreateRoleRequest(role_name=other, assume_role_policy_document=trust(f"acs:ram::{ACCOUNT_1}:root")))
    page = r.list_roles(m.ListRolesRequest(max_items=1)).body
    assert page.is_truncated is True and len(page.roles.role) == 1 and page.marker

    pol = new_policy(r, doc(allow("imm:ListProjects")))
    r.attach_policy_to_role(m.AttachPolicyToRoleRequest(policy_type="Custom", policy_name=pol, role_name=name))
    r.attach_policy_to_role(m.AttachPolicyToRoleRequest(policy_type="System", policy_name="AliyunIMMReadOnlyAccess",
                                                        role_name=name))
    pols = r.list_policies_for_role(m.ListPoliciesForRoleRequest(role_name=name)).body.policies.policy
    assert sorted((p.policy_name, p.policy_type, p.default_version) for p in pols) == \
        sorted([(pol, "Custom", "v1"), ("AliyunIMMReadOnlyAccess", "System", "v1")])
    assert all(DATE.match(p.attach_date) for p in pols)
    refused("EntityNotExist.Role", 404, r.list_policies_for_role,
            m.ListPoliciesForRoleRequest(role_name=unique("norole")))

    c = assume(sts(server), g.arn).credentials
    session = imm(server, c.access_key_id, c.access_key_secret, c.security_token)
    get_project(session, project)

    refused("DeleteConflict.Role.Policy", 409, r.delete_role, m.DeleteRoleRequest(role_name=name))
    r.detach_policy_from_role(m.DetachPolicyFromRoleRequest(policy_type="System",
                                                            policy_name="AliyunIMMReadOnlyAccess", role_name=name))
    denied_imm(get_project, session, project)  # the session loses the permission at once
    list_projects(session)
    refused("EntityNotExist.Role.Policy", 404, r.detach_policy_from_role,
            m.DetachPolicyFromRoleRequest(policy_type="System", policy_name="AliyunIMMReadOnlyAccess",
                                          role_name=name))
    refused("DeleteConflict.Role.Policy", 409, r.delete_role, m.DeleteRoleRequest(role_name=name))
    refused("DeleteConflict.Policy.User", 409, r.delete_policy, m.DeletePolicyRequest(policy_name=pol))
    r.detach_policy_from_role(m.DetachPolicyFromRoleRequest(policy_type="Custom", policy_name=pol, role_name=name))
    assert r.list_policies_for_role(m.ListPoliciesForRoleRequest(role_name=name)).body.policies.policy == []
    r.delete_role(m.DeleteRoleRequest(role_name=name))
    refused("EntityNotExist.Role", 404, r.get_role, m.GetRoleRequest(role_name=name))
    refused("EntityNotExist.Role", 404, r.delete_role, m.DeleteRoleRequest(role_name=name))
    refused("EntityNotExist.Role", 404, assume, sts(server), g.arn)
    assert name not in [x.role_name for x in r.list_roles(m.ListRolesRequest(max_items=1000)).body.roles.role]
    r.delete_policy(m.DeletePolicyRequest(policy_name=pol))

    # A role made again under the name is another role (a new RoleId): the old session gets nothing.
    again = r.create_role(m.CreateRoleRequest(role_name=name, assume_role_policy_document=trust(
        f"acs:ram::{ACCOUNT_1}:root"))).body.role
    assert again.role_id != created.role_id and again.max_session_duration == 3600
    r.attach_policy_to_role(m.AttachPolicyToRoleRequest(policy_type="System", policy_name="AliyunIMMReadOnlyAccess",
                                                        role_name=name))
    denied_imm(get_project, session, project)
    c = assume(sts(server), again.arn).credentials
    get_project(imm(server, c.access_key_id, c.access_key_secret, c.security_token), project)


def test_update_role_changes_who_may_assume_it_and_for_how_long(server):
    r = ram(server)
    name = unique("tour-role")
    root_trust = trust(f"acs:ram::{ACCOUNT_1}:root")
    created = r.create_role(m.CreateRoleRequest(role_name=name, assume_role_policy_document=root_trust,
                                                max_session_duration=3600)).body.role
    alice, k = new_user(r)
    attach_user(r, alice, new_policy(r, doc(allow("sts:AssumeRole"))))
    root_sts, alice_sts = sts(server), sts(server, k.access_key_id, k.access_key_secret)
    assume(root_sts, created.arn)
    # The root trust admits every identity of the account, alice included.
    assume(alice_sts, created.arn)

    bob, bk = new_user(r)
    attach_user(r, bob, new_policy(r, doc(allow("sts:AssumeRole"))))
    bob_sts = sts(server, bk.access_key_id, bk.access_key_secret)
    up = r.update_role(m.UpdateRoleRequest(role_name=name, new_assume_role_policy_document=trust(
        f"acs:ram::{ACCOUNT_1}:user/{alice}"), new_description="alice only")).body.role
    assert (up.role_name, up.role_id, up.description, up.max_session_duration) == \
        (name, created.role_id, "alice only", 3600)
    assert json.loads(up.assume_role_policy_document)["Statement"][0]["Principal"]["RAM"] == \
        [f"acs:ram::{ACCOUNT_1}:user/{alice}"]
    assert up.create_date == created.create_date and DATE.match(up.update_date)
    body = assume(alice_sts, created.arn)
    assert body.assumed_role_user.arn == f"{created.arn}/tour"
    refused("NoPermission", 403, assume, bob_sts, created.arn)
    refused("NoPermission", 403, assume, root_sts, created.arn)

    refused("InvalidParameter.DurationSeconds", 400, assume, alice_sts, created.arn, duration_seconds=7200)
    up = r.update_role_with_options(m.UpdateRoleRequest(role_name=name, new_max_session_duration=7200),
                                    util_models.RuntimeOptions()).body.role
    assert up.max_session_duration == 7200 and up.description == "alice only"
    assert r.get_role(m.GetRoleRequest(role_name=name)).body.role.max_session_duration == 7200
    assert assume(alice_sts, created.arn, duration_seconds=7200).credentials.expiration.endswith("Z")
    refused("InvalidParameter.DurationSeconds", 400, assume, alice_sts, created.arn, duration_seconds=7201)
    refused("InvalidParameter.NewMaxSessionDuration", 400, r.update_role,
            m.UpdateRoleRequest(role_name=name, new_max_session_duration=100))
    refused("MalformedPolicyDocument", 400, r.update_role,
            m.UpdateRoleRequest(role_name=name, new_assume_role_policy_document='{"Version":"1"'))
    refused("EntityNotExist.Role", 404, r.update_role,
            m.UpdateRoleRequest(role_name=unique("norole"), new_description="x"))
    # Back to the root trust: everyone of the account again.
    r.update_role(m.UpdateRoleRequest(role_name=name, new_assume_role_policy_document=root_trust))
    assume(bob_sts, created.arn)
    assume(root_sts, created.arn)


def test_decode_a_diagnostic_message_and_refuse_a_foreign_one(server, project):
    r = ram(server)
    name, k = new_user(r)
    e = denied_imm(get_project, imm(server, k.access_key_id, k.access_key_secret), project)
    d = r.decode_diagnostic_message(m.DecodeDiagnosticMessageRequest(
        encoded_diagnostic_message=e.access_denied_detail["EncodedDiagnosticMessage"])).body
    assert d.decoded_diagnostic_message.auth_action == "imm:GetProject"
    refused("InvalidParameter.EncodedDiagnosticMessage", 400, r.decode_diagnostic_message,
            m.DecodeDiagnosticMessageRequest(encoded_diagnostic_message="bm90IG91cnM="))


def test_the_legacy_core_common_request_lists_users(server):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    r = ram(server)
    name, _ = new_user(r)
    client = AcsClient(AK_ID_1, AK_SECRET_1, "cn-hangzhou", auto_retry=False, timeout=30)

    def request(action, **params):
        req = CommonRequest(domain=server.endpoint, version="2015-05-01", action_name=action, product="Ram")
        req.set_protocol_type("http")
        req.set_accept_format("json")
        for k, v in params.items():
            req.add_query_param(k, v)
        return json.loads(client.do_action_with_exception(req))

    body = request("ListUsers", MaxItems="1000")
    assert body["IsTruncated"] is False and body["RequestId"]
    assert name in [u["UserName"] for u in body["Users"]["User"]]
    assert request("GetUser", UserName=name)["User"]["UserName"] == name
    with pytest.raises(ServerException) as info:
        request("GetUser", UserName=unique("nobody"))
    assert (info.value.get_http_status(), info.value.get_error_code()) == (404, "EntityNotExist.User")
