"""The fixture `cloudtwin` of the installed wheel's pytest plugin, and its ready-made clients of
the official SDKs. No conftest: the plugin comes from the `pytest11` entry point."""
import json

from alibabacloud_imm20200930 import models as imm_models
from aliyunsdkcore.request import CommonRequest
from tencentcloud.cvm.v20170312 import models as cvm_models


def create_image(client, name):
    req = cvm_models.CreateImageRequest()
    req.ImageName, req.InstanceId = name, "ins-abcdefgh"
    return client.CreateImage(req).ImageId


def private_images(client):
    f = cvm_models.Filter()
    f.Name, f.Values = "image-type", ["PRIVATE_IMAGE"]
    req = cvm_models.DescribeImagesRequest()
    req.Filters = [f]
    return [i.ImageId for i in client.DescribeImages(req).ImageSet]


def test_an_image_made_with_the_cvm_client_is_seen(cloudtwin):
    assert cloudtwin.endpoint.startswith("127.0.0.1:")
    assert cloudtwin.url == f"http://{cloudtwin.endpoint}"
    cvm = cloudtwin.cvm()
    image_id = create_image(cvm, "wheel-one")
    assert image_id.startswith("img-")
    assert private_images(cvm) == [image_id]
    # the second account is another tenant
    assert private_images(cloudtwin.cvm(account=1)) == []


def test_the_next_test_does_not_see_the_previous_tests_image(cloudtwin):
    assert private_images(cloudtwin.cvm()) == []


def test_the_accounts_credentials(cloudtwin):
    one, two = cloudtwin.accounts
    assert (one.id, two.id) == ("100000000001", "100000000002")
    assert one.secret_id == "AKIDCLOUDTWIN00000000000000000000001"
    assert two.access_key_id == "LTAICLOUDTWIN0000000002"
    assert cloudtwin.health() is not None


def test_imm_projects_through_the_tea_client(cloudtwin):
    imm = cloudtwin.imm()
    assert not imm.list_projects(imm_models.ListProjectsRequest()).body.projects
    imm.create_project(imm_models.CreateProjectRequest(project_name="wheel-project"))
    names = [p.project_name for p in imm.list_projects(imm_models.ListProjectsRequest()).body.projects]
    assert names == ["wheel-project"]
    # the other account has none
    assert not cloudtwin.imm(account=1).list_projects(imm_models.ListProjectsRequest()).body.projects


def test_imm_through_the_legacy_client(cloudtwin):
    client = cloudtwin.legacy()

    def call(action, **params):
        req = CommonRequest(product="imm", version="2020-09-30", action_name=action)
        req.set_accept_format("json")
        for k, v in params.items():
            req.add_query_param(k, v)
        return json.loads(client.do_action_with_exception(req))

    call("CreateProject", ProjectName="legacy-project")
    names = [p["ProjectName"] for p in call("ListProjects")["Projects"]]
    assert names == ["legacy-project"]


def test_the_server_runs_the_binary_the_wheel_installed(cloudtwin):
    import os
    import sys
    import sysconfig
    assert "CLOUDTWIN_BIN" not in os.environ
    assert cloudtwin.bin == os.path.join(sysconfig.get_path("scripts"), "cloudtwin")
    assert cloudtwin.bin.startswith(sys.prefix)
