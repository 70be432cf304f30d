"""Alibaba Cloud IMM face clusters through the official clients, in all three styles:
alibabacloud-imm20200930 with ACS3 (v3) and with RPC HMAC-SHA1 (v2), and the legacy
aliyun-python-sdk-core + aliyun-python-sdk-imm, against the real binary."""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import AK_ID_1, AK_ID_2, AK_SECRET_2, PATIENCE, unique
from imm_client import STYLES, ImmError


@pytest.fixture(params=STYLES)
def imm_style(request):
    return request.param


def err(fn):
    with pytest.raises(ImmError) as e:
        fn()
    return e.value


def make_dataset(c, project=None, dataset="faces"):
    project = project or unique("proj").replace("-", "_")
    c.call("CreateProject", ProjectName=project)
    c.call("CreateDataset", ProjectName=project, DatasetName=dataset)
    return project, dataset


def face(fid, cluster=None):
    f = {"FigureId": fid, "FigureType": "face"}
    if cluster is not None:
        f["FigureClusterId"] = cluster
    return f


def index(c, p, d, uri, figures=(), **extra):
    return c.call("IndexFileMeta", ProjectName=p, DatasetName=d, File=dict({"URI": uri, "Figures": list(figures)}, **extra))


def run_clustering(c, p, d):
    task = c.call("CreateFigureClusteringTask", ProjectName=p, DatasetName=d, Tags={"run": "1"})
    return wait_task(c, p, task["TaskId"], "FaceClustering")


def wait_task(c, p, task_id, task_type, timeout=PATIENCE):
    deadline = time.time() + timeout
    while time.time() < deadline:
        t = c.call("GetTask", ProjectName=p, TaskId=task_id, TaskType=task_type)
        if t["Status"] != "Running":
            return t
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} still running")


def cluster_of(c, p, d, uri, fid):
    f = c.call("GetFileMeta", ProjectName=p, DatasetName=d, URI=uri)["Files"][0]
    return [x for x in f["Figures"] if x["FigureId"] == fid][0]["FigureClusterId"]


# --- projects and datasets ------------------------------------------------------------------

def test_projects_create_get_list_update_delete(server, imm_style):
    c = server.imm(imm_style)
    prefix = unique("p").replace("-", "_")
    names = [f"{prefix}_{i}" for i in range(5)]
    for n in names:
        created = c.call("CreateProject", ProjectName=n, Description="d", Tag=[{"Key": "team", "Value": "a"}])["Project"]
        assert created["ProjectName"] == n
        assert created["ServiceRole"] == "AliyunIMMDefaultRole"
        assert created["DatasetMaxFileCount"] == 100000000
    got = c.call("GetProject", ProjectName=names[0], WithStatistics=True)["Project"]
    assert got["Description"] == "d" and got["FileCount"] == 0
    assert got["Tags"] == [{"TagKey": "team", "TagValue": "a"}]
    seen, token = [], None
    while True:
        page = c.call("ListProjects", Prefix=prefix, MaxResults=2, NextToken=token)
        seen += [x["ProjectName"] for x in page["Projects"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == sorted(names)
    updated = c.call("UpdateProject", ProjectName=names[0], Description="new words")["Project"]
    assert updated["Description"] == "new words"
    assert c.call("GetProject", ProjectName=names[0])["Project"]["Description"] == "new words"
    e = err(lambda: c.call("CreateProject", ProjectName=names[0]))
    assert (e.code, e.status) == ("ResourceAlreadyExists", 400)
    e = err(lambda: c.call("GetProject", ProjectName="nope_" + prefix))
    assert (e.code, e.status) == ("ResourceNotFound", 404)
    e = err(lambda: c.call("CreateProject", ProjectName="9bad name"))
    assert (e.code, e.status) == ("InvalidArgument", 400)
    e = err(lambda: c.call("GetProject"))
    assert (e.code, e.status) == ("MissingProjectName", 400)
    for n in names:
        c.call("DeleteProject", ProjectName=n)
    assert c.call("ListProjects", Prefix=prefix)["Projects"] == []


def test_datasets_and_status_conflict_on_non_empty_parents(server, imm_style):
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    c.call("CreateDataset", ProjectName=p, DatasetName="second", Description="two")
    assert c.call("GetProject", ProjectName=p)["Project"]["DatasetCount"] == 2
    names = [x["DatasetName"] for x in c.call("ListDatasets", ProjectName=p)["Datasets"]]
    assert names == ["faces", "second"]
    page = c.call("ListDatasets", ProjectName=p, MaxResults=1)
    assert len(page["Datasets"]) == 1 and page["NextToken"]
    assert c.call("ListDatasets", ProjectName=p, Prefix="sec")["Datasets"][0]["DatasetName"] == "second"
    assert c.call("UpdateDataset", ProjectName=p, DatasetName="second", Description="2")["Dataset"]["Description"] == "2"
    e = err(lambda: c.call("CreateDataset", ProjectName=p, DatasetName="second"))
    assert e.code == "ResourceAlreadyExists"
    e = err(lambda: c.call("GetDataset", ProjectName=p, DatasetName="none"))
    assert (e.code, e.status) == ("ResourceNotFound", 404)
    e = err(lambda: c.call("DeleteProject", ProjectName=p))
    assert (e.code, e.status) == ("StatusConflict", 400)
    index(c, p, d, "oss://bucket/a.jpg")
    e = err(lambda: c.call("DeleteDataset", ProjectName=p, DatasetName=d))
    assert e.code == "StatusConflict"
    assert c.call("GetDataset", ProjectName=p, DatasetName=d, WithStatistics=True)["Dataset"]["FileCount"] == 1
    c.call("DeleteFileMeta", ProjectName=p, DatasetName=d, URI="oss://bucket/a.jpg")
    c.call("DeleteDataset", ProjectName=p, DatasetName=d)
    c.call("DeleteDataset", ProjectName=p, DatasetName="second")
    c.call("DeleteProject", ProjectName=p)


# --- file metadata --------------------------------------------------------------------------

def test_index_get_update_and_delete_file_meta(server, imm_style):
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    index(c, p, d, "oss://bucket/photos/a b.jpg", [face("f1")], CustomLabels={"k": "v"}, Title="first")
    f = c.call("GetFileMeta", ProjectName=p, DatasetName=d, URI="oss://bucket/photos/a b.jpg")["Files"][0]
    assert f["URI"] == "oss://bucket/photos/a b.jpg" and f["ObjectType"] == "file" and len(f["ObjectId"]) == 64
    assert f["CustomLabels"] == {"k": "v"} and f["Title"] == "first" and f["MediaType"] == "image"
    assert f["Figures"][0]["FigureId"] == "f1"
    assert f["Figures"][0]["FigureClusterId"] == "figure-cluster-id-unavailable"
    c.call("UpdateFileMeta", ProjectName=p, DatasetName=d, File={"URI": "oss://bucket/photos/a b.jpg", "CustomLabels": {"k": "w"}})
    f = c.call("GetFileMeta", ProjectName=p, DatasetName=d, URI="oss://bucket/photos/a b.jpg")["Files"][0]
    assert f["CustomLabels"] == {"k": "w"} and f["Title"] == "first" and len(f["Figures"]) == 1
    only = c.call("GetFileMeta", ProjectName=p, DatasetName=d, URI="oss://bucket/photos/a b.jpg", WithFields=["URI", "Title"])["Files"][0]
    # (the Tea SDK's to_map() adds empty lists for every list field of File by itself)
    assert {k for k, v in only.items() if v not in ([], None)} == {"URI", "Title"}
    c.call("BatchIndexFileMeta", ProjectName=p, DatasetName=d,
           Files=[{"URI": f"oss://bucket/b{i}.mp4" if i == 0 else f"oss://bucket/b{i}.jpg"} for i in range(3)])
    got = c.call("BatchGetFileMeta", ProjectName=p, DatasetName=d, URIs=["oss://bucket/b2.jpg", "oss://bucket/zz.jpg", "oss://bucket/b0.mp4"])["Files"]
    assert [x["URI"] for x in got] == ["oss://bucket/b2.jpg", "oss://bucket/b0.mp4"]
    assert got[1]["MediaType"] == "video"
    res = c.call("BatchUpdateFileMeta", ProjectName=p, DatasetName=d,
                 Files=[{"URI": "oss://bucket/b1.jpg", "Title": "t"}, {"URI": "oss://bucket/missing.jpg", "Title": "t"}])["Files"]
    assert [(r["URI"], r["Success"]) for r in res] == [("oss://bucket/b1.jpg", True), ("oss://bucket/missing.jpg", False)]
    e = err(lambda: c.call("UpdateFileMeta", ProjectName=p, DatasetName=d, File={"URI": "oss://bucket/missing.jpg"}))
    assert (e.code, e.status) == ("ResourceNotFound", 404)
    e = err(lambda: index(c, p, d, "https://example.com/x.jpg"))
    assert e.code == "InvalidArgument"
    e = err(lambda: c.call("BatchIndexFileMeta", ProjectName=p, DatasetName=d, Files=[{"URI": f"oss://b/{i}.jpg"} for i in range(101)]))
    assert e.code == "InvalidArgument"
    c.call("BatchDeleteFileMeta", ProjectName=p, DatasetName=d, URIs=["oss://bucket/b0.mp4", "oss://bucket/b1.jpg", "oss://bucket/none.jpg"])
    assert c.call("GetDataset", ProjectName=p, DatasetName=d, WithStatistics=True)["Dataset"]["FileCount"] == 2
    e = err(lambda: c.call("DeleteFileMeta", ProjectName=p, DatasetName=d, URI="oss://bucket/none.jpg"))
    assert e.code == "ResourceNotFound"
    e = err(lambda: c.call("IndexFileMeta", ProjectName=p, DatasetName="nope", File={"URI": "oss://b/x.jpg"}))
    assert (e.code, e.status) == ("ResourceNotFound", 404)


# --- clustering -----------------------------------------------------------------------------

def test_clustering_groups_faces_by_identity_hint_and_reports_the_task(server, imm_style):
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    index(c, p, d, "oss://b/1.jpg", [face("a1", "alice"), face("b1", "bob")])
    index(c, p, d, "oss://b/2.jpg", [face("a2", "alice")])
    index(c, p, d, "oss://b/3.mp4", [face("a3", "alice")])
    index(c, p, d, "oss://b/4.jpg", [face("solo")])
    task = c.call("CreateFigureClusteringTask", ProjectName=p, DatasetName=d, Tags={"k": "v"}, UserData='{"u":1}')
    assert task["TaskId"] and task["EventId"]
    early = c.call("GetTask", ProjectName=p, TaskId=task["TaskId"], TaskType="FaceClustering")
    assert early["Status"] == "Running" and early["StartTime"]
    done = wait_task(c, p, task["TaskId"], "FaceClustering")
    assert done["Status"] == "Succeeded" and done["EndTime"] >= done["StartTime"]
    assert done["Tags"] == {"k": "v"} and done["UserData"] == '{"u":1}'
    alice = cluster_of(c, p, d, "oss://b/1.jpg", "a1")
    assert alice.startswith("Cluster-")
    assert cluster_of(c, p, d, "oss://b/2.jpg", "a2") == alice == cluster_of(c, p, d, "oss://b/3.mp4", "a3")
    bob = cluster_of(c, p, d, "oss://b/1.jpg", "b1")
    solo = cluster_of(c, p, d, "oss://b/4.jpg", "solo")
    assert len({alice, bob, solo}) == 3
    cl = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]
    assert (cl["FaceCount"], cl["ImageCount"], cl["VideoCount"]) == (3, 2, 1)
    assert cl["ObjectType"] == "figure-cluster" and cl["MetaLockVersion"] == 0
    assert cl["Cover"]["URI"].startswith("oss://b/")
    # A later face with the same hint joins the same cluster at the next run; clustering
    # touches only faces not yet clustered.
    index(c, p, d, "oss://b/5.jpg", [face("a5", "alice")])
    run_clustering(c, p, d)
    assert cluster_of(c, p, d, "oss://b/5.jpg", "a5") == alice
    assert c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]["FaceCount"] == 4
    listed = c.call("ListTasks", ProjectName=p, TaskTypes=["FaceClustering"], Sort="StartTime", Order="desc")
    assert len(listed["Tasks"]) == 2 and listed["Tasks"][0]["StartTime"] >= listed["Tasks"][1]["StartTime"]
    assert listed["MaxResults"] == "2"
    assert c.call("ListTasks", ProjectName=p, TagSelector="run=nope")["Tasks"] == []


def test_face_cluster_ids_on_index_and_update(server, imm_style):
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    index(c, p, d, "oss://b/1.jpg", [face("x1", "xavier")])
    run_clustering(c, p, d)
    xc = cluster_of(c, p, d, "oss://b/1.jpg", "x1")
    # An existing cluster id puts a face in it at once.
    index(c, p, d, "oss://b/2.jpg", [face("x2", xc)])
    assert cluster_of(c, p, d, "oss://b/2.jpg", "x2") == xc
    # figure-cluster-id-independent detaches a face.
    c.call("UpdateFileMeta", ProjectName=p, DatasetName=d, File={"URI": "oss://b/2.jpg", "Figures": [face("x2", "figure-cluster-id-independent")]})
    assert cluster_of(c, p, d, "oss://b/2.jpg", "x2") == "figure-cluster-id-independent"
    assert c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=xc)["FigureCluster"]["FaceCount"] == 1
    # ... and UpdateFileMeta with the cluster id puts it back.
    c.call("UpdateFileMeta", ProjectName=p, DatasetName=d, File={"URI": "oss://b/2.jpg", "Figures": [face("x2", xc)]})
    assert c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=xc)["FigureCluster"]["FaceCount"] == 2
    # Deleting every file of a cluster's faces removes the cluster.
    c.call("BatchDeleteFileMeta", ProjectName=p, DatasetName=d, URIs=["oss://b/1.jpg", "oss://b/2.jpg"])
    e = err(lambda: c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=xc))
    assert (e.code, e.status) == ("ResourceNotFound", 404)


def test_merging_task_moves_faces_and_removes_sources(server, imm_style):
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    for i, who in enumerate(["ann", "ann2", "ann3"]):
        index(c, p, d, f"oss://b/{i}.jpg", [face(f"f{i}", who)])
    run_clustering(c, p, d)
    ids = [cluster_of(c, p, d, f"oss://b/{i}.jpg", f"f{i}") for i in range(3)]
    e = err(lambda: c.call("CreateFigureClustersMergingTask", ProjectName=p, DatasetName=d, To=ids[0]))
    assert e.code == "InvalidArgument"
    e = err(lambda: c.call("CreateFigureClustersMergingTask", ProjectName=p, DatasetName=d, From=ids[1], Froms=[ids[2]], To=ids[0]))
    assert e.code == "InvalidArgument"
    e = err(lambda: c.call("CreateFigureClustersMergingTask", ProjectName=p, DatasetName=d, From="Cluster-nope", To=ids[0]))
    assert e.code == "ResourceNotFound"
    t = c.call("CreateFigureClustersMergingTask", ProjectName=p, DatasetName=d, Froms=[ids[1], ids[2]], To=ids[0])
    assert wait_task(c, p, t["TaskId"], "FigureClustersMerging")["Status"] == "Succeeded"
    merged = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=ids[0])["FigureCluster"]
    assert merged["FaceCount"] == 3
    got = c.call("BatchGetFigureCluster", ProjectName=p, DatasetName=d, ObjectIds=ids)["FigureClusters"]
    assert [x["ObjectId"] for x in got] == [ids[0]]
    assert cluster_of(c, p, d, "oss://b/2.jpg", "f2") == ids[0]


# --- UpdateFigureCluster (the seed) --------------------------------------------------------

def clustered(c, hints=("alice", "bob")):
    p, d = make_dataset(c)
    for i, h in enumerate(hints):
        index(c, p, d, f"oss://b/{h}-1.jpg", [face(f"{h}-f1", h)])
        index(c, p, d, f"oss://b/{h}-2.jpg", [face(f"{h}-f2", h)])
    run_clustering(c, p, d)
    return p, d, [cluster_of(c, p, d, f"oss://b/{h}-1.jpg", f"{h}-f1") for h in hints]


def test_update_figure_cluster_sets_name_labels_and_cover(server, imm_style):
    c = server.imm(imm_style)
    p, d, (alice, bob) = clustered(c)
    before = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]
    time.sleep(0.01)
    c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d,
           FigureCluster={"ObjectId": alice, "Name": "Alice 张三", "CustomLabels": {"role": "friend", "score": "5"},
                          "Cover": {"Figures": [{"FigureId": "alice-f2"}]}})
    after = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]
    assert after["Name"] == "Alice 张三"
    assert after["CustomLabels"] == {"role": "friend", "score": "5"}
    assert after["Cover"]["URI"] == "oss://b/alice-2.jpg"
    assert after["MetaLockVersion"] == before["MetaLockVersion"] + 1
    assert after["UpdateTime"] > before["UpdateTime"]
    # Labels are replaced, not merged; an empty Figures list leaves the cover.
    c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d,
           FigureCluster={"ObjectId": alice, "CustomLabels": {"only": "this"}, "Cover": {"Figures": []}})
    again = c.call("BatchGetFigureCluster", ProjectName=p, DatasetName=d, ObjectIds=[bob, alice])["FigureClusters"]
    assert [x["ObjectId"] for x in again] == [bob, alice]
    assert again[1]["CustomLabels"] == {"only": "this"} and again[1]["Cover"]["URI"] == "oss://b/alice-2.jpg"
    assert again[1]["Name"] == "Alice 张三"


def test_update_figure_cluster_errors(server, imm_style):
    c = server.imm(imm_style)
    p, d, (alice,) = clustered(c, ("carol",))
    cur = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]["MetaLockVersion"]
    e = err(lambda: c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d,
                           FigureCluster={"ObjectId": alice, "Name": "x", "MetaLockVersion": cur + 5}))
    assert (e.code, e.status) == ("InvalidArgument", 400) and "MetaLockVersion" in e.message
    after = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]
    assert after["Name"] == "" and after["MetaLockVersion"] == cur, "a lock mismatch changes nothing"
    c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d, FigureCluster={"ObjectId": alice, "Name": "ok", "MetaLockVersion": cur})
    for fc, code, status in [
        ({"ObjectId": "Cluster-00000000-0000-0000-0000-000000000000"}, "ResourceNotFound", 404),
        ({"Name": "no id"}, "InvalidArgument", 400),
        ({"ObjectId": alice, "Cover": {"Figures": [{"FigureId": "not-a-member"}]}}, "InvalidArgument", 400),
    ]:
        e = err(lambda: c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d, FigureCluster=fc))
        assert (e.code, e.status) == (code, status), fc
    e = err(lambda: c.call("UpdateFigureCluster", ProjectName="no_such", DatasetName=d, FigureCluster={"ObjectId": alice}))
    assert (e.code, e.status) == ("ResourceNotFound", 404) and "project" in e.message
    e = err(lambda: c.call("UpdateFigureCluster", ProjectName=p, DatasetName="no_such", FigureCluster={"ObjectId": alice}))
    assert e.code == "ResourceNotFound" and "dataset" in e.message
    e = err(lambda: c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d))
    assert (e.code, e.status) == ("MissingFigureCluster", 400)


def test_update_figure_cluster_with_malformed_json_is_a_400(server):
    c = server.imm("legacy")
    p, d, (alice,) = clustered(c, ("dave",))
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkimm.request.v20200930.UpdateFigureClusterRequest import UpdateFigureClusterRequest
    req = UpdateFigureClusterRequest()
    req.set_ProjectName(p)
    req.set_DatasetName(d)
    req.add_query_param("FigureCluster", '{"ObjectId": "' + alice + '", ')
    req.set_endpoint(server.endpoint)
    req.set_protocol_type("http")
    with pytest.raises(ServerException) as e:
        c.client.do_action_with_exception(req)
    assert e.value.get_http_status() == 400 and e.value.get_error_code() == "InvalidArgument"
    assert "not valid JSON" in e.value.get_error_msg()


def test_two_concurrent_updates_with_the_same_lock_version_have_one_winner(server):
    c = server.imm("v3")
    p, d, (alice,) = clustered(c, ("erin",))
    v = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]["MetaLockVersion"]

    def attempt(i):
        try:
            server.imm("v3").call("UpdateFigureCluster", ProjectName=p, DatasetName=d,
                                  FigureCluster={"ObjectId": alice, "Name": f"n{i}", "MetaLockVersion": v})
            return "ok"
        except ImmError as e:
            return e.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count("ok") == 1, results
    assert set(results) == {"ok", "InvalidArgument"}
    assert c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]["MetaLockVersion"] == v + 1


# --- QueryFigureClusters ------------------------------------------------------------------

def test_query_figure_clusters_sorts_filters_and_pages(server, imm_style):
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    sizes = {"h0": 1, "h1": 3, "h2": 2, "h3": 4, "h4": 2}
    for h, n in sizes.items():
        for k in range(n):
            index(c, p, d, f"oss://b/{h}-{k}.jpg", [face(f"{h}-{k}", h)])
    run_clustering(c, p, d)
    ids = {h: cluster_of(c, p, d, f"oss://b/{h}-0.jpg", f"{h}-0") for h in sizes}
    for h, cid in ids.items():
        c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d,
               FigureCluster={"ObjectId": cid, "Name": f"name-{h}", "CustomLabels": {"group": "even" if sizes[h] % 2 == 0 else "odd", "h": h}})
    q = c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, WithTotalCount=True)
    assert q["TotalCount"] == 5
    assert [x["ObjectId"] for x in q["FigureClusters"]] == sorted(ids.values()), "default order is by ObjectId"
    by_images = c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, Sort="ImageCount", Order="desc")["FigureClusters"]
    assert [x["ImageCount"] for x in by_images] == [4, 3, 2, 2, 1]
    for key in ["ImageCount", "VideoCount", "ProjectName", "DatasetName", "CreateTime", "UpdateTime", "Gender", "FaceCount", "Name"]:
        for order in ["asc", "desc"]:
            pages, token = [], None
            while True:
                r = c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, Sort=key, Order=order, MaxResults=2, NextToken=token)
                pages += [x["ObjectId"] for x in r["FigureClusters"]]
                token = r.get("NextToken")
                if not token:
                    break
            full = [x["ObjectId"] for x in c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, Sort=key, Order=order)["FigureClusters"]]
            assert pages == full and len(full) == 5, (key, order)
    names_desc = [x["Name"] for x in c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, Sort="Name", Order="desc")["FigureClusters"]]
    assert names_desc == sorted(names_desc, reverse=True)
    even = c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, CustomLabels="group=even", WithTotalCount=True)
    assert even["TotalCount"] == 3
    both = c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, CustomLabels="group=even,h=h3", WithTotalCount=True)
    assert both["TotalCount"] == 1 and both["FigureClusters"][0]["ObjectId"] == ids["h3"]
    future = {"Start": "2999-01-01T00:00:00Z"}
    assert c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, CreateTimeRange=future, WithTotalCount=True)["TotalCount"] == 0
    assert c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, UpdateTimeRange={"Start": "2000-01-01T00:00:00+08:00"},
                  WithTotalCount=True)["TotalCount"] == 5
    assert "TotalCount" not in c.call("QueryFigureClusters", ProjectName=p, DatasetName=d)
    for bad in [dict(MaxResults=101), dict(Sort="Bogus"), dict(Order="sideways"), dict(NextToken="garbage"), dict(CustomLabels="novalue")]:
        e = err(lambda: c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, **bad))
        assert (e.code, e.status) == ("InvalidArgument", 400), bad


def test_filtered_query_figure_clusters_pages_as_the_full_listing_filtered(server, imm_style):
    """Label and time filters (answered from the index) give, for every sort and order and
    paged two at a time, exactly the unfiltered listing in that order with the filter applied."""
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    sizes = {f"h{i}": 1 + i % 4 for i in range(9)}
    for h, n in sizes.items():
        for k in range(n):
            index(c, p, d, f"oss://b/{h}-{k}.jpg", [face(f"{h}-{k}", h)])
    run_clustering(c, p, d)
    ids = {h: cluster_of(c, p, d, f"oss://b/{h}-0.jpg", f"{h}-0") for h in sizes}
    for i, (h, cid) in enumerate(ids.items()):
        if i % 3 != 2:
            c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d,
                   FigureCluster={"ObjectId": cid, "Name": f"n{i % 2}", "CustomLabels": {"group": "even" if i % 2 == 0 else "odd"}})
    full = c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, MaxResults=100)["FigureClusters"]
    since = sorted(x["UpdateTime"] for x in full)[4]
    filters = [
        (dict(CustomLabels="group=even"), lambda x: (x.get("CustomLabels") or {}).get("group") == "even"),
        (dict(UpdateTimeRange={"Start": since}), lambda x: x["UpdateTime"] >= since),
        (dict(CreateTimeRange={"Start": "2000-01-01T00:00:00Z"}, CustomLabels="group=odd"),
         lambda x: (x.get("CustomLabels") or {}).get("group") == "odd"),
    ]
    for key in ["", "ImageCount", "FaceCount", "CreateTime", "UpdateTime", "Name"]:
        for order in ["asc", "desc"]:
            listing = [x for x in c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, Sort=key or None, Order=order,
                                         MaxResults=100)["FigureClusters"]]
            for params, keep in filters:
                want = [x["ObjectId"] for x in listing if keep(x)]
                pages, token = [], None
                while True:
                    r = c.call("QueryFigureClusters", ProjectName=p, DatasetName=d, Sort=key or None, Order=order,
                               MaxResults=2, NextToken=token, WithTotalCount=True, **params)
                    assert r["TotalCount"] == len(want), (key, order, params)
                    pages += [x["ObjectId"] for x in r["FigureClusters"]]
                    token = r.get("NextToken")
                    if not token:
                        break
                assert pages == want and want, (key, order, params)


# --- the dialect ------------------------------------------------------------------------

def test_authentication_failures(server, imm_style):
    bad_secret = server.imm(imm_style, secret="wrong-secret")
    e = err(lambda: bad_secret.call("ListProjects"))
    # The legacy SDK rewrites a mismatch whose string to sign equals its own into InvalidAccessKeySecret.
    assert e.status == 400 and e.code in ("SignatureDoesNotMatch", "InvalidAccessKeySecret")
    unknown = server.imm(imm_style, ak="LTAInobody", secret="x")
    e = err(lambda: unknown.call("ListProjects"))
    assert (e.code, e.status) == ("InvalidAccessKeyId.NotFound", 404)


def test_accounts_are_isolated(server, imm_style):
    one = server.imm(imm_style)
    two = server.imm(imm_style, ak=AK_ID_2, secret=AK_SECRET_2)
    p, d = make_dataset(one)
    e = err(lambda: two.call("GetProject", ProjectName=p))
    assert e.code == "ResourceNotFound"
    two.call("CreateProject", ProjectName=p)  # the same name is free in another account
    assert two.call("GetProject", ProjectName=p)["Project"]["DatasetCount"] == 0
    assert one.call("GetProject", ProjectName=p)["Project"]["DatasetCount"] == 1


def test_throttling_answers_throttling_user_with_retry_after(fresh_server):
    s = fresh_server(rate_limits=True)
    c = s.imm("v3")
    codes = []
    for _ in range(25):
        try:
            c.call("ListProjects")
        except ImmError as e:
            codes.append(e)
    assert codes, "25 quick calls must pass a 10/s limit"
    assert codes[0].code == "Throttling.User" and codes[0].status == 400
    assert codes[0].kind == "throttling" and codes[0].retry_after >= 1


def test_acknowledged_cluster_updates_survive_kill_9(fresh_server):
    s = fresh_server()
    c = s.imm("v3")
    p, d, (alice,) = clustered(c, ("fay",))
    c.call("UpdateFigureCluster", ProjectName=p, DatasetName=d, FigureCluster={"ObjectId": alice, "Name": "kept"})
    s.kill9()
    s.restart()
    cl = s.imm("v2").call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=alice)["FigureCluster"]
    assert cl["Name"] == "kept" and cl["MetaLockVersion"] == 1


def test_tasks_disappear_after_the_retention(fresh_server):
    s = fresh_server(retention_s=1, task_ms=0)
    c = s.imm("v3")
    p, d = make_dataset(c)
    t = c.call("CreateFigureClusteringTask", ProjectName=p, DatasetName=d)
    wait_task(c, p, t["TaskId"], "FaceClustering")
    time.sleep(1.2)
    e = err(lambda: c.call("GetTask", ProjectName=p, TaskId=t["TaskId"], TaskType="FaceClustering"))
    assert e.code == "ResourceNotFound"
    assert c.call("ListTasks", ProjectName=p)["Tasks"] == []


def test_admin_ingestion_and_embedding_clustering(server):
    c = server.imm("v3")
    p, d = make_dataset(c)
    status, _ = server.ingest(p, d, {"URI": "oss://b/x.jpg", "Figures": []}, token="wrong")
    assert status == 401
    base = [1.0] + [0.0] * 15
    other = [0.0, 1.0] + [0.0] * 14
    files = [("oss://b/e1.jpg", base, 30, "female", 0.5), ("oss://b/e2.jpg", [0.98, 0.05] + [0.0] * 14, 32, "female", 0.9),
             ("oss://b/e3.jpg", other, 50, "male", 0.7)]
    for uri, emb, age, gender, q in files:
        status, body = server.ingest(p, d, {"URI": uri, "Figures": [{"FigureId": uri[-6:-4], "Age": age, "Gender": gender,
                                                                    "FaceQuality": q, "Embedding": emb,
                                                                    "Boundary": {"Left": 1, "Top": 2, "Width": 30, "Height": 40}}]})
        assert status == 200, body
    run_clustering(c, p, d)
    a = cluster_of(c, p, d, "oss://b/e1.jpg", "e1")
    assert a == cluster_of(c, p, d, "oss://b/e2.jpg", "e2") != cluster_of(c, p, d, "oss://b/e3.jpg", "e3")
    cl = c.call("GetFigureCluster", ProjectName=p, DatasetName=d, ObjectId=a)["FigureCluster"]
    assert (cl["AverageAge"], cl["MinAge"], cl["MaxAge"], cl["Gender"]) == (31, 30, 32, "female")
    assert cl["Cover"]["URI"] == "oss://b/e2.jpg", "the cover is the best-quality face"
    fig = c.call("GetFileMeta", ProjectName=p, DatasetName=d, URI="oss://b/e1.jpg")["Files"][0]["Figures"][0]
    assert fig["Boundary"]["Width"] == 30 and fig["Age"] == 30


def test_accept_language_zh_cn_gets_the_chinese_message_and_no_header_the_english_one(server, imm_style):
    zh = server.imm(imm_style, language="zh-CN")
    e = err(lambda: zh.call("GetProject", ProjectName="no_such_project"))
    assert (e.code, e.status) == ("ResourceNotFound", 404)
    assert "指定的资源 project 不存在：no_such_project。" in e.message, e.message
    e = err(lambda: server.imm(imm_style).call("GetProject", ProjectName="no_such_project"))
    assert "The specified resource project is not found: no_such_project." in e.message, e.message
    assert "指定" not in e.message


def test_simple_query_lists_the_files_of_a_cluster_paged_by_uri(server, imm_style):
    c = server.imm(imm_style)
    p, d = make_dataset(c)
    for i in range(3):
        index(c, p, d, f"oss://b/carol-{i}.jpg", [face(f"carol-f{i}", "carol")])
    index(c, p, d, "oss://b/dave-0.jpg", [face("dave-f0", "dave")])
    run_clustering(c, p, d)
    carol = cluster_of(c, p, d, "oss://b/carol-0.jpg", "carol-f0")
    query = {"Field": "FigureClusterId", "Operation": "eq", "Value": carol}
    first = c.call("SimpleQuery", ProjectName=p, DatasetName=d, Query=query, MaxResults=2)
    assert [f["URI"] for f in first["Files"]] == ["oss://b/carol-0.jpg", "oss://b/carol-1.jpg"]
    assert first["TotalHits"] == 3
    assert all(any(x["FigureClusterId"] == carol for x in f["Figures"]) for f in first["Files"])
    assert first["NextToken"]
    rest = c.call("SimpleQuery", ProjectName=p, DatasetName=d, Query=query, MaxResults=2,
                  NextToken=first["NextToken"])
    assert [f["URI"] for f in rest["Files"]] == ["oss://b/carol-2.jpg"]
    assert not rest.get("NextToken")
    # Only the cluster query is built: anything else is refused, an unknown cluster is not found.
    e = err(lambda: c.call("SimpleQuery", ProjectName=p, DatasetName=d,
                           Query={"Field": "Size", "Operation": "gt", "Value": "1"}))
    assert (e.code, e.status) == ("InvalidArgument", 400)
    e = err(lambda: c.call("SimpleQuery", ProjectName=p, DatasetName=d,
                           Query={"Field": "FigureClusterId", "Operation": "eq", "Value": "Cluster-nope"}))
    assert (e.code, e.status) == ("ResourceNotFound", 404)
    # The SDKs send an empty Aggregations list when none is given; a real one is refused.
    e = err(lambda: c.call("SimpleQuery", ProjectName=p, DatasetName=d, Query=query,
                           Aggregations=[{"Field": "Size", "Operation": "sum"}]))
    assert (e.code, e.status) == ("InvalidArgument", 400)
