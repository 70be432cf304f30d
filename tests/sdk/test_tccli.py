"""tccli against the real binary (tccli always sends TC3 POST JSON, with `Host: http://...`)."""
import json
import os
import subprocess
import sys

from conftest import SECRET_ID_1, SECRET_KEY_1, unique

TCCLI = os.path.join(os.path.dirname(sys.executable), "tccli")


def tccli(server, action, *args):
    cmd = [TCCLI, "cvm", action, "--region", "ap-guangzhou", "--endpoint", f"http://{server.endpoint}",
           "--secretId", SECRET_ID_1, "--secretKey", SECRET_KEY_1, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, HOME=os.environ.get("TCCLI_HOME", "/tmp")))
    return p.returncode, p.stdout + p.stderr


def ok(server, action, *args):
    code, out = tccli(server, action, *args)
    assert code == 0, out
    return json.loads(out)


def test_tccli_creates_describes_modifies_and_deletes(server):
    name = unique("cli")
    image_id = ok(server, "CreateImage", "--ImageName", name, "--InstanceId", "ins-abcdefgh")["ImageId"]
    listed = ok(server, "DescribeImages", "--Filters", json.dumps([{"Name": "image-name", "Values": [name]}]))
    assert listed["TotalCount"] == 1 and listed["ImageSet"][0]["ImageId"] == image_id
    ok(server, "ModifyImageAttribute", "--ImageId", image_id, "--ImageName", name + "-x",
       "--ImageDescription", "from tccli", "--ImageDeprecated", "false")
    got = ok(server, "DescribeImages", "--ImageIds", json.dumps([image_id]))["ImageSet"][0]
    assert (got["ImageName"], got["ImageDescription"]) == (name + "-x", "from tccli")
    ok(server, "DeleteImages", "--ImageIds", json.dumps([image_id]), "--DryRun", "true")
    ok(server, "DeleteImages", "--ImageIds", json.dumps([image_id]))
    assert ok(server, "DescribeImages", "--ImageIds", json.dumps([image_id]))["TotalCount"] == 0


def test_tccli_prints_the_error_code_and_exits_255(server):
    code, out = tccli(server, "ModifyImageAttribute", "--ImageId", "img-00000000", "--ImageName", "x")
    assert code == 255
    assert "code:InvalidImageId.NotFound" in out
    code, out = tccli(server, "ModifyImageAttribute", "--ImageId", "bad", "--ImageName", "x")
    assert "code:InvalidImageId.Malformed" in out


def test_tccli_defaults_to_chinese_messages_and_language_en_us_gets_english(server):
    code, out = tccli(server, "ModifyImageAttribute", "--ImageId", "img-00000000", "--ImageName", "x")
    assert code == 255 and "code:InvalidImageId.NotFound" in out
    assert "未找到该镜像：img-00000000。" in out, out
    code, out = tccli(server, "ModifyImageAttribute", "--ImageId", "img-00000000", "--ImageName", "x",
                      "--language", "en-US")
    assert code == 255 and "code:InvalidImageId.NotFound" in out
    assert "ImageId img-00000000 is not found" in out and "未找到" not in out, out
