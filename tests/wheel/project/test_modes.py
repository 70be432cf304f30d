"""The reset modes and the end of a session, in pytest runs of their own (subprocesses of the
same interpreter, whose plugin is the installed wheel's)."""
import os
import subprocess
import sys

INNER = '''
import os
from tencentcloud.cvm.v20170312 import models


def private(client):
    f = models.Filter()
    f.Name, f.Values = "image-type", ["PRIVATE_IMAGE"]
    req = models.DescribeImagesRequest()
    req.Filters = [f]
    return client.DescribeImages(req).ImageSet


def test_first(cloudtwin):
    with open(os.environ["PID_FILE"], "w") as f:
        f.write(str(cloudtwin.pid))
    req = models.CreateImageRequest()
    req.ImageName, req.InstanceId = "first", "ins-abcdefgh"
    cloudtwin.cvm().CreateImage(req)


def test_second(cloudtwin):
    assert len(private(cloudtwin.cvm())) == int(os.environ["EXPECTED"])
'''


def run(tmp_path, expected, *args):
    (tmp_path / "test_inner.py").write_text(INNER)
    pid_file = tmp_path / "pid"
    env = dict(os.environ, PID_FILE=str(pid_file), EXPECTED=str(expected))
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-c", os.devnull, "--rootdir", str(tmp_path), *args, "test_inner.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout, done.stdout
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"the session's server (pid {pid}) outlived the session")


def test_by_default_each_test_starts_empty_and_the_server_stops(tmp_path):
    run(tmp_path, 0)


def test_reset_never_on_the_command_line_keeps_the_state(tmp_path):
    run(tmp_path, 1, "--cloudtwin-reset=never")


def test_reset_from_the_ini_key(tmp_path):
    run(tmp_path, 1, "-o", "cloudtwin_reset=module")
