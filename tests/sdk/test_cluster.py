"""Cluster mode's own checks (CLOUDTWIN_SDK_CLUSTER=1): the round-robin proxy sends each
request, not each connection, to the next node, as the nodes' own metrics count them, and a
write acknowledged by one node is read by each of the others."""
import re
import urllib.request

from tencentcloud.cvm.v20170312 import models
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common import credential
from tencentcloud.cvm.v20170312 import cvm_client

from conftest import ADMIN_TOKEN, NODES, REGION, SECRET_ID_1, SECRET_KEY_1, cluster_only

pytestmark = cluster_only


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
