"""Cluster mode's own checks (CLOUDTWIN_SDK_CLUSTER=1): the round-robin proxy sends each
request, not each connection, to the next node, as the nodes' own metrics count them, and a
write acknowledged by one node is read by each of the others, also when the three nodes opened
the new database at once."""
import json
import re
import urllib.request

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

from conftest import ACCOUNT_1, ADMIN_TOKEN, NODES, REGION, SECRET_ID_1, SECRET_KEY_1, cluster_only

pytestmark = cluster_only

TRUST_ROOT = json.dumps({"version": "2.0", "statement": [{
    "action": "name/sts:AssumeRole", "effect": "allow",
    "principal": {"qcs": [f"qcs::cam::uin/{ACCOUNT_1}:root"]}}]})


def described(node_metrics):
    """DescribeImages requests a node's /_cloudtwin/metrics counts, every answer code."""
    return sum(int(n) for n in re.findall(
        r'^cloudtwin_requests_total\{dialect="tencent",action="DescribeImages",code="[^"]*"\} (\d+)$',
        node_metrics, re.M))


def metrics(endpoint):
    req = urllib.request.Request(f"http://{endpoint}/_cloudtwin/metrics",
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def test_one_kept_sdk_connection_spreads_its_requests_over_the_three_nodes(fresh_server):
    s = fresh_server()
    c = s.client("tc3-post")
    before_nodes = [described(metrics(e)) for e in s.nodes]
    before = s.proxy.spread()
    for _ in range(3 * NODES):
        assert c.DescribeImages(models.DescribeImagesRequest()).TotalCount == 11
    assert [a - b for a, b in zip(s.proxy.spread(), before)] == [NODES] * NODES
    assert [described(metrics(e)) - b for e, b in zip(s.nodes, before_nodes)] == [NODES] * NODES, \
        "each node answered a third of the calls"


def test_an_image_created_through_one_node_is_read_by_every_node(fresh_server):
    s = fresh_server()
    req = models.CreateImageRequest()
    req.ImageName, req.InstanceId = "seen-everywhere", "ins-abcdefgh"
    image_id = s.client("tc3-post").CreateImage(req).ImageId
    for node in s.nodes:
        direct = cvm_client.CvmClient(credential.Credential(SECRET_ID_1, SECRET_KEY_1), REGION, ClientProfile(
            httpProfile=HttpProfile(protocol="http", endpoint=node, reqTimeout=30), language="en-US"))
        d = models.DescribeImagesRequest()
        d.ImageIds = [image_id]
        assert [i.ImageName for i in direct.DescribeImages(d).ImageSet] == ["seen-everywhere"], node


def test_nodes_that_open_a_new_database_at_once_accept_each_others_sts_tokens(fresh_server):
    # The other tests start node 1 first; here the three open the fresh database together, as
    # an orchestrator starts a cluster's nodes. Each must then check tokens with the one STS
    # token key the database keeps. Five clusters, for a race's better chance to show.
    for _ in range(5):
        s = fresh_server(together=True)
        cam = cam_client.CamClient(credential.Credential(SECRET_ID_1, SECRET_KEY_1), "", ClientProfile(
            httpProfile=HttpProfile(protocol="http", endpoint=s.nodes[0], reqTimeout=30)))
        role = cam_models.CreateRoleRequest()
        role.RoleName, role.PolicyDocument = "cluster-reader", TRUST_ROOT
        cam.CreateRole(role)
        attach = cam_models.AttachRolePolicyRequest()
        attach.PolicyName, attach.AttachRoleName = "QcloudCVMReadOnlyAccess", "cluster-reader"
        cam.AttachRolePolicy(attach)
        sts = sts_client.StsClient(credential.Credential(SECRET_ID_1, SECRET_KEY_1), REGION, ClientProfile(
            httpProfile=HttpProfile(protocol="http", endpoint=s.nodes[0], reqTimeout=30)))
        req = sts_models.AssumeRoleRequest()
        req.RoleArn, req.RoleSessionName = f"qcs::cam::uin/{ACCOUNT_1}:roleName/cluster-reader", "cluster-session"
        req.DurationSeconds = 900
        c = sts.AssumeRole(req).Credentials
        for node in s.nodes:
            direct = cvm_client.CvmClient(credential.Credential(c.TmpSecretId, c.TmpSecretKey, c.Token), REGION,
                                          ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=node,
                                                                                reqTimeout=30), language="en-US"))
            assert direct.DescribeImages(models.DescribeImagesRequest()).TotalCount == 11, node
        s.close()
