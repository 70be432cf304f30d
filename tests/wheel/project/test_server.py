"""`cloudtwin.Server` as a context manager, as code outside pytest uses it."""
import os

import cloudtwin as ct
from tencentcloud.cvm.v20170312 import models


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_server_of_its_own(cloudtwin):
    with ct.Server() as twin:
        assert twin.running and twin.endpoint != cloudtwin.endpoint
        req = models.CreateImageRequest()
        req.ImageName, req.InstanceId = "own", "ins-abcdefgh"
        image_id = twin.cvm().CreateImage(req).ImageId
        described = twin.cvm().DescribeImages(models.DescribeImagesRequest()).ImageSet
        assert image_id in [i.ImageId for i in described]
        # not in the fixture's server
        assert image_id not in [i.ImageId for i in
                                cloudtwin.cvm().DescribeImages(models.DescribeImagesRequest()).ImageSet]
        twin.reset()
        assert image_id not in [i.ImageId for i in
                                twin.cvm().DescribeImages(models.DescribeImagesRequest()).ImageSet]
        pid, tmp = twin.pid, twin._tmp
    assert twin.stop() == 0  # it exited gracefully, at SIGTERM
    assert gone(pid) and not os.path.exists(tmp)


def test_a_missing_binary_is_named():
    try:
        ct.Server(bin="/nonexistent/cloudtwin")
    except ct.ServerError as e:
        assert "/nonexistent/cloudtwin" in str(e)
    else:
        raise AssertionError("no error")
