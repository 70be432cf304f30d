//! The wire models of IMM (imm.md §5): Project, Dataset, File (with Figures), FigureCluster,
//! TaskInfo, rendered from the stored records.

use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::clock::rfc3339_nano_utc;
use crate::imm::model::{Cluster, Dataset, Face, FaceCluster, FileMeta, Project, Task};
use crate::imm::projects::Statistics;

/// Reserved `FigureClusterId`s of a face waiting for clustering and of a face in no cluster
/// (spelled by the domain, `imm::model`).
pub use crate::imm::model::{
    INDEPENDENT_CLUSTER_ID as INDEPENDENT, UNAVAILABLE_CLUSTER_ID as UNAVAILABLE,
};

fn tags(list: &[(String, String)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
            .collect(),
    )
}

/// `Project`.
pub fn project(p: &Project, stats: Option<Statistics>) -> Value {
    let s = stats.unwrap_or_default();
    json!({
        "ProjectName": p.name,
        "Description": p.description,
        "ServiceRole": p.service_role,
        "TemplateId": p.template_id,
        "Tags": tags(&p.tags),
        "DatasetMaxBindCount": p.limits.max_bind_count,
        "DatasetMaxEntityCount": p.limits.max_entity_count,
        "DatasetMaxFileCount": p.limits.max_file_count,
        "DatasetMaxRelationCount": p.limits.max_relation_count,
        "DatasetMaxTotalFileSize": p.limits.max_total_file_size,
        "ProjectMaxDatasetCount": p.max_dataset_count,
        "DatasetCount": p.dataset_count,
        "FileCount": s.file_count,
        "TotalFileSize": s.total_file_size,
        "ProjectQueriesPerSecond": 100,
        "EngineConcurrency": 100,
        "CreateTime": rfc3339_nano_utc(p.created_ms),
        "UpdateTime": rfc3339_nano_utc(p.updated_ms),
    })
}

/// `Dataset`.
pub fn dataset(d: &Dataset) -> Value {
    json!({
        "ProjectName": d.project,
        "DatasetName": d.name,
        "Description": d.description,
        "TemplateId": d.template_id,
        "WorkflowParameters": d.workflow_parameters.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
        "DatasetMaxBindCount": d.limits.max_bind_count,
        "DatasetMaxEntityCount": d.limits.max_entity_count,
        "DatasetMaxFileCount": d.limits.max_file_count,
        "DatasetMaxRelationCount": d.limits.max_relation_count,
        "DatasetMaxTotalFileSize": d.limits.max_total_file_size,
        "BindCount": 0,
        "FileCount": d.file_count,
        "TotalFileSize": d.total_file_size,
        "CreateTime": rfc3339_nano_utc(d.created_ms),
        "UpdateTime": rfc3339_nano_utc(d.updated_ms),
    })
}

/// The fields a user gave a file or a face (a JSON object's text), parsed; none when empty.
fn extra_fields(text: &str) -> Map<String, Value> {
    if text.is_empty() || text == "{}" {
        return Map::new();
    }
    serde_json::from_str(text).unwrap_or_default()
}

/// `Figure` on the wire: its own fields, then the attributes it was indexed with (a
/// same-named attribute gives way to the field).
struct FigureWire<'a>(&'a Face);

impl FigureWire<'_> {
    const FIELDS: [&'static str; 6] = [
        "FigureId",
        "FigureType",
        "FigureClusterId",
        "Age",
        "Gender",
        "FaceQuality",
    ];
}

impl Serialize for FigureWire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let extra = extra_fields(&f.attributes);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("FigureId", &f.figure_id)?;
        m.serialize_entry("FigureType", "face")?;
        m.serialize_entry(
            "FigureClusterId",
            match &f.cluster {
                FaceCluster::Assigned(id) => id.as_str(),
                FaceCluster::Pending { .. } => UNAVAILABLE,
                FaceCluster::Independent => INDEPENDENT,
            },
        )?;
        if let Some(a) = f.age {
            m.serialize_entry("Age", &a)?;
        }
        if let Some(g) = &f.gender {
            m.serialize_entry("Gender", g)?;
        }
        if let Some(q) = f.quality {
            m.serialize_entry("FaceQuality", &q)?;
        }
        for (k, v) in &extra {
            if !Self::FIELDS.contains(&k.as_str()) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// `File` on the wire: its own fields, then the fields it was indexed with (a same-named
/// field gives way to the file's own), restricted to `with_fields` when given; `Figures` only
/// those `figure` names (all when `None`), `FigureCount` counts them all.
pub struct FileWire<'a> {
    f: &'a FileMeta,
    owner: &'a str,
    project: &'a str,
    dataset: &'a str,
    with_fields: Option<&'a [String]>,
    figure: Option<&'a str>,
}

impl FileWire<'_> {
    const FIELDS: [&'static str; 14] = [
        "URI",
        "ObjectId",
        "ObjectType",
        "ObjectStatus",
        "OwnerId",
        "ProjectName",
        "DatasetName",
        "MediaType",
        "Size",
        "Filename",
        "FigureCount",
        "Figures",
        "CreateTime",
        "UpdateTime",
    ];
}

impl Serialize for FileWire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.f;
        let wanted = |k: &str| {
            self.with_fields
                .filter(|w| !w.is_empty())
                .is_none_or(|w| w.iter().any(|x| x == k))
        };
        let extra = extra_fields(&f.fields);
        let mut m = s.serialize_map(None)?;
        macro_rules! put {
            ($k:literal, $v:expr) => {
                if wanted($k) {
                    m.serialize_entry($k, $v)?;
                }
            };
        }
        put!("URI", &f.uri);
        put!("ObjectId", &f.object_id);
        put!("ObjectType", "file");
        put!("ObjectStatus", "Indexed");
        put!("OwnerId", self.owner);
        put!("ProjectName", self.project);
        put!("DatasetName", self.dataset);
        put!("MediaType", &f.media_type);
        put!("Size", &f.size);
        put!("Filename", f.uri.rsplit('/').next().unwrap_or_default());
        put!("FigureCount", &f.faces.len());
        if wanted("Figures") {
            let figures: Vec<FigureWire<'_>> = f
                .faces
                .iter()
                .filter(|x| self.figure.is_none_or(|id| x.figure_id == id))
                .map(FigureWire)
                .collect();
            m.serialize_entry("Figures", &figures)?;
        }
        put!("CreateTime", &rfc3339_nano_utc(f.created_ms));
        put!("UpdateTime", &rfc3339_nano_utc(f.updated_ms));
        for (k, v) in &extra {
            if !Self::FIELDS.contains(&k.as_str()) && wanted(k) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// `File`, restricted to `with_fields` when given.
pub fn file<'a>(
    f: &'a FileMeta,
    owner: &'a str,
    project: &'a str,
    dataset: &'a str,
    with_fields: Option<&'a [String]>,
) -> FileWire<'a> {
    FileWire {
        f,
        owner,
        project,
        dataset,
        with_fields,
        figure: None,
    }
}

/// `CustomLabels`: each stored value is the JSON text it was given as (a string when it is
/// not JSON).
struct Labels<'a>(&'a [(String, String)]);

impl Serialize for Labels<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            let value = serde_json::from_str(v).unwrap_or(Value::String(v.clone()));
            m.serialize_entry(k, &value)?;
        }
        m.end()
    }
}

/// A cluster's `Cover`: its file with only the cover's face.
struct Cover<'a> {
    f: FileMeta,
    figure: String,
    cluster: &'a Cluster,
}

impl Serialize for Cover<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FileWire {
            f: &self.f,
            owner: &self.cluster.account,
            project: &self.cluster.project,
            dataset: &self.cluster.dataset,
            with_fields: None,
            figure: Some(&self.figure),
        }
        .serialize(s)
    }
}

/// `FigureCluster` on the wire, borrowed from the record: serialised straight into the
/// answer's text (a page of clusters is not built as a `Value` tree first).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClusterWire<'a> {
    object_id: &'a str,
    object_type: &'static str,
    owner_id: &'a str,
    project_name: &'a str,
    dataset_name: &'a str,
    name: &'a str,
    custom_id: &'a str,
    custom_labels: Labels<'a>,
    meta_lock_version: i64,
    face_count: u64,
    image_count: u64,
    video_count: u64,
    create_time: String,
    update_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    average_age: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_age: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_age: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cover: Option<Cover<'a>>,
}

/// `FigureCluster`, with its cover file (only the cover's face among its `Figures`).
pub fn cluster(c: &Cluster, cover: Option<FileMeta>) -> ClusterWire<'_> {
    let s = c.stats();
    let cover = match (cover, s.cover.clone()) {
        (Some(f), Some((_, figure))) => Some(Cover {
            f,
            figure,
            cluster: c,
        }),
        _ => None,
    };
    ClusterWire {
        object_id: &c.object_id,
        object_type: "figure-cluster",
        owner_id: &c.account,
        project_name: &c.project,
        dataset_name: &c.dataset,
        name: &c.name,
        custom_id: &c.custom_id,
        custom_labels: Labels(&c.labels),
        meta_lock_version: c.meta_lock_version,
        face_count: s.face_count,
        image_count: s.image_count,
        video_count: s.video_count,
        create_time: rfc3339_nano_utc(c.created_ms),
        update_time: rfc3339_nano_utc(c.updated_ms),
        gender: s.gender,
        average_age: s.average_age,
        min_age: s.min_age,
        max_age: s.max_age,
        cover,
    }
}

/// The fields of a task (GetTask's body, ListTasks' `TaskInfo`).
pub fn task(t: &Task, with_definition: bool) -> Map<String, Value> {
    let tags: Map<String, Value> = t.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut m = Map::new();
    m.insert("TaskId".into(), json!(t.task_id));
    m.insert("TaskType".into(), json!(t.task_type));
    m.insert("ProjectName".into(), json!(t.project));
    m.insert("Status".into(), json!(t.status.as_wire()));
    m.insert("Code".into(), json!(t.code));
    m.insert("Message".into(), json!(t.message));
    m.insert("StartTime".into(), json!(rfc3339_nano_utc(t.start_ms)));
    if let Some(e) = t.end_ms {
        m.insert("EndTime".into(), json!(rfc3339_nano_utc(e)));
    }
    m.insert(
        "Progress".into(),
        json!(if t.end_ms.is_some() { 100 } else { 0 }),
    );
    m.insert("Tags".into(), Value::Object(tags));
    m.insert("UserData".into(), json!(t.user_data));
    m.insert("EventId".into(), json!(t.event_id));
    if with_definition {
        m.insert("TaskRequestDefinition".into(), json!(t.request_definition));
    }
    m
}
