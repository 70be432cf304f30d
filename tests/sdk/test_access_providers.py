"""The official automatic role providers end to end, over cloudtwin's TLS listener: both call STS
over https (hard-coded), take temporary credentials for a role, and sign every later call with
them and their token. A role with the cloud's read-only policy is made through CAM / RAM with
the root key; the provider's session may read and is denied a write.

How each provider is made to trust the generated CA (`DATA_DIR/tls/ca.pem`; docs/access.md):
- Tencent `STSAssumeRoleCredential(..., endpoint=HOST)` builds its own `HttpProfile`, whose
  requests verify against `certifi.where()`: point that at a bundle that holds the CA.
- alibabacloud-credentials `RamRoleArnCredentialsProvider(..., sts_endpoint=HOST)` calls
  `TeaCore.do_action` without a CA option: `SSL_CERT_FILE=ca.pem` (OpenSSL's default verify
  paths) is what it honours.
Every provider runs in a fresh interpreter with an environment of the test's own.
"""
import json

from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi import models as open_api_models
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from conftest import ACCOUNT_1, AK_ID_1, AK_SECRET_1, SECRET_ID_1, SECRET_KEY_1
from test_tls import run, tls_server  # noqa: F401  (the module fixture)

TENCENT_PROVIDER = r"""
import sys, certifi
import tencentcloud.common.http.request as request
endpoint, sid, skey, role_arn, ca = sys.argv[1:6]
# STSAssumeRoleCredential's own HttpProfile verifies against certifi.where().
bundle = ca + ".bundle"
with open(bundle, "w") as out:
    out.write(open(certifi.where()).read() + "\n" + open(ca).read())
request.certifi.where = lambda: bundle
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models
cred = credential.STSAssumeRoleCredential(sid, skey, role_arn, "provider-session", endpoint=endpoint)
assert cred.token and cred.secret_id != sid
c = cvm_client.CvmClient(cred, "ap-guangzhou",
                         ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, certification=ca)))
r = c.DescribeImages(models.DescribeImagesRequest())
out = {"read": r.TotalCount}
req = models.ModifyImageAttributeRequest()
req.ImageId = "img-00000000"
req.ImageName = "renamed"
try:
    c.ModifyImageAttribute(req)
    out["write"] = "allowed"
except TencentCloudSDKException as e:
    out["write"] = e.code
    out["message"] = e.message
print(__import__("json").dumps(out))
"""

ALIYUN_PROVIDER = r"""
import sys, json
from alibabacloud_credentials.client import Client as CredClient
from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider
from alibabacloud_imm20200930 import models
from alibabacloud_imm20200930.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.runtime import RuntimeOptions
endpoint, ak, secret, role_arn, ca = sys.argv[1:6]
provider = RamRoleArnCredentialsProvider(access_key_id=ak, access_key_secret=secret,
                                         role_arn=role_arn, role_session_name="provider-session",
                                         sts_endpoint=endpoint)
creds = provider.get_credentials()
assert creds.get_access_key_id().startswith("STS.") and creds.get_security_token()
cfg = open_api_models.Config(credential=CredClient(provider=provider), endpoint=endpoint,
                             read_timeout=30000, connect_timeout=30000, ca=ca)
c = Client(cfg)
rt = RuntimeOptions(ca=ca, autoretry=False)
r = c.list_projects_with_options(models.ListProjectsRequest(), rt)
out = {"read": r.status_code}
try:
    c.create_project_with_options(models.CreateProjectRequest(project_name="provider-denied"), rt)
    out["write"] = "allowed"
except Exception as e:
    out["write"] = getattr(e, "code", type(e).__name__)
    out["status"] = getattr(e, "statusCode", None) or getattr(e, "status_code", None)
print(json.dumps(out))
"""

TRUST_ROOT_CAM = json.dumps({"version": "2.0", "statement": [{
    "action": "name/sts:AssumeRole", "effect": "allow",
    "principal": {"qcs": [f"qcs::cam::uin/{ACCOUNT_1}:root"]}}]})
TRUST_ROOT_RAM = json.dumps({"Version": "1", "Statement": [{
    "Action": "sts:AssumeRole", "Effect": "Allow",
    "Principal": {"RAM": [f"acs:ram::{ACCOUNT_1}:root"]}}]})


def test_tencent_sts_assume_role_credential_signs_cvm_calls_with_its_session(tls_server):
    cam = cam_client.CamClient(
        credential.Credential(SECRET_ID_1, SECRET_KEY_1), "",
        ClientProfile(httpProfile=HttpProfile(endpoint=tls_server.https, certification=tls_server.ca)))
    req = cam_models.CreateRoleRequest()
    req.RoleName = "provider-reader"
    req.PolicyDocument = TRUST_ROOT_CAM
    cam.CreateRole(req)
    attach = cam_models.AttachRolePolicyRequest()
    attach.PolicyName = "QcloudCVMReadOnlyAccess"
    attach.AttachRoleName = "provider-reader"
    cam.AttachRolePolicy(attach)
    arn = f"qcs::cam::uin/{ACCOUNT_1}:roleName/provider-reader"
    out = json.loads(run(TENCENT_PROVIDER, [tls_server.https, SECRET_ID_1, SECRET_KEY_1, arn, tls_server.ca]))
    assert isinstance(out["read"], int), out
    assert out["write"] == "UnauthorizedOperation", out
    assert "(cvm:ModifyImageAttribute)" in out["message"], out
    assert f"uin/{ACCOUNT_1}:image/img-00000000" in out["message"], out


def test_alibaba_ram_role_arn_provider_signs_imm_calls_with_its_session(tls_server):
    ram = RamClient(open_api_models.Config(access_key_id=AK_ID_1, access_key_secret=AK_SECRET_1,
                                           endpoint=tls_server.http, protocol="http"))
    ram.create_role(ram_models.CreateRoleRequest(role_name="provider-reader",
                                                 assume_role_policy_document=TRUST_ROOT_RAM))
    ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="System", policy_name="AliyunIMMReadOnlyAccess", role_name="provider-reader"))
    arn = f"acs:ram::{ACCOUNT_1}:role/provider-reader"
    out = json.loads(run(ALIYUN_PROVIDER, [tls_server.https, AK_ID_1, AK_SECRET_1, arn, tls_server.ca],
                         SSL_CERT_FILE=tls_server.ca))
    assert out["read"] == 200, out
    assert out["write"] == "AccessDenied", out
    assert out["status"] == 403, out


def test_the_alibaba_provider_without_the_ca_fails_on_the_certificate(tls_server):
    arn = f"acs:ram::{ACCOUNT_1}:role/provider-reader"
    script = ALIYUN_PROVIDER.replace("creds = provider.get_credentials()",
                                     "try:\n    provider.get_credentials()\nexcept Exception as e:\n"
                                     "    print(json.dumps({'error': str(e)})); sys.exit(0)\n"
                                     "creds = provider.get_credentials()")
    out = json.loads(run(script, [tls_server.https, AK_ID_1, AK_SECRET_1, arn, tls_server.ca]))
    assert "error" in out and "CERTIFICATE_VERIFY_FAILED" in out["error"], out
