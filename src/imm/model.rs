//! IMM records as stored: projects, datasets, files with faces, figure clusters, tasks.
//!
//! Open-ended JSON of the wire (custom labels, addresses, face attributes) is kept as JSON
//! text, because bincode cannot hold `serde_json::Value`.

use serde::{Deserialize, Serialize};

use crate::store::Record;

/// Who is asking, and where.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// Account id.
    pub account: &'a str,
    /// Region id.
    pub region: &'a str,
}

/// Dataset limits shared by projects (as defaults) and datasets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetLimits {
    /// `DatasetMaxBindCount` (1..=10).
    pub max_bind_count: i64,
    /// `DatasetMaxEntityCount` (reserved).
    pub max_entity_count: i64,
    /// `DatasetMaxFileCount` (1..=100000000), enforced on indexing.
    pub max_file_count: i64,
    /// `DatasetMaxRelationCount` (reserved).
    pub max_relation_count: i64,
    /// `DatasetMaxTotalFileSize` in bytes, enforced on indexing.
    pub max_total_file_size: i64,
}

impl Default for DatasetLimits {
    fn default() -> Self {
        DatasetLimits {
            max_bind_count: 10,
            max_entity_count: 10_000_000_000,
            max_file_count: 100_000_000,
            max_relation_count: 100_000_000_000,
            max_total_file_size: 90_000_000_000_000_000,
        }
    }
}

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// `ProjectName`.
    pub name: String,
    /// `Description`.
    pub description: String,
    /// `ServiceRole`.
    pub service_role: String,
    /// `TemplateId`.
    pub template_id: String,
    /// `Tags` as (key, value).
    pub tags: Vec<(String, String)>,
    /// Defaults for its datasets.
    pub limits: DatasetLimits,
    /// `ProjectMaxDatasetCount`.
    pub max_dataset_count: i64,
    /// Datasets in the project.
    pub dataset_count: u64,
    /// Creation time, ms.
    pub created_ms: u64,
    /// Last change, ms.
    pub updated_ms: u64,
}

impl Record for Project {
    const KIND: &'static str = "imm.project";
    const VERSION: u8 = 1;
}

/// A dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Project name.
    pub project: String,
    /// `DatasetName`.
    pub name: String,
    /// `Description`.
    pub description: String,
    /// `TemplateId`.
    pub template_id: String,
    /// `WorkflowParameters` as (name, value).
    pub workflow_parameters: Vec<(String, String)>,
    /// Limits.
    pub limits: DatasetLimits,
    /// Indexed files.
    pub file_count: u64,
    /// Sum of the indexed files' `Size`.
    pub total_file_size: u64,
    /// Creation time, ms.
    pub created_ms: u64,
    /// Last change, ms.
    pub updated_ms: u64,
}

impl Record for Dataset {
    const KIND: &'static str = "imm.dataset";
    const VERSION: u8 = 1;
}

/// The `FigureClusterId` of a face waiting for clustering (on the wire and in documents).
pub const UNAVAILABLE_CLUSTER_ID: &str = "figure-cluster-id-unavailable";
/// The `FigureClusterId` of a face detached from every cluster.
pub const INDEPENDENT_CLUSTER_ID: &str = "figure-cluster-id-independent";
/// `ServiceRole` of a project that names none.
pub const DEFAULT_SERVICE_ROLE: &str = "AliyunIMMDefaultRole";
/// `ProjectMaxDatasetCount` of a project that names none.
pub const DEFAULT_MAX_DATASET_COUNT: i64 = 1_000_000_000;

/// Where a face stands with respect to clustering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaceCluster {
    /// Waiting for the next clustering task, with an optional identity hint.
    Pending {
        /// Faces with the same hint end in the same cluster.
        hint: Option<String>,
    },
    /// Detached from every cluster (`figure-cluster-id-independent`).
    Independent,
    /// A member of this cluster.
    Assigned(String),
}

/// A face of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// `FigureId`.
    pub figure_id: String,
    /// Cluster standing.
    pub cluster: FaceCluster,
    /// `Age`.
    pub age: Option<f64>,
    /// `Gender`.
    pub gender: Option<String>,
    /// `FaceQuality`.
    pub quality: Option<f64>,
    /// Other `Figure` fields (Boundary, HeadPose, Emotion, ...) as a JSON object text.
    pub attributes: String,
    /// Embedding for similarity clustering (admin ingestion only).
    pub embedding: Option<Vec<f32>>,
}

/// A file's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    /// `URI`.
    pub uri: String,
    /// `ObjectId`: 64 hex.
    pub object_id: String,
    /// `MediaType` (`image`, `video`, ...).
    pub media_type: String,
    /// `Size` in bytes.
    pub size: u64,
    /// Every other user field of the `InputFile` (CustomLabels, CustomId, Title, ...) as a
    /// JSON object text.
    pub fields: String,
    /// The faces.
    pub faces: Vec<Face>,
    /// Creation time, ms.
    pub created_ms: u64,
    /// Last change, ms.
    pub updated_ms: u64,
}

impl Record for FileMeta {
    const KIND: &'static str = "imm.file";
    const VERSION: u8 = 1;
}

impl FileMeta {
    /// Whether the file counts as a video for cluster statistics.
    pub fn is_video(&self) -> bool {
        self.media_type == "video"
    }

    /// Whether a face of the file waits for clustering (the file then has a key in
    /// `imm.pending`).
    pub fn has_pending(&self) -> bool {
        self.faces
            .iter()
            .any(|f| matches!(f.cluster, FaceCluster::Pending { .. }))
    }
}

/// One face of a cluster, with what its statistics need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// File URI.
    pub uri: String,
    /// `FigureId`.
    pub figure_id: String,
    /// Age.
    pub age: Option<f64>,
    /// Gender.
    pub gender: Option<String>,
    /// Face quality (0 when unknown).
    pub quality: f64,
    /// The file is a video.
    pub video: bool,
}

/// A figure cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// `ObjectId`: `Cluster-<uuid>`.
    pub object_id: String,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Project.
    pub project: String,
    /// Dataset.
    pub dataset: String,
    /// `Name`.
    pub name: String,
    /// `CustomId`.
    pub custom_id: String,
    /// `CustomLabels` as (key, JSON text of the value).
    pub labels: Vec<(String, String)>,
    /// `MetaLockVersion`: +1 on every UpdateFigureCluster.
    pub meta_lock_version: i64,
    /// Creation time, ms.
    pub created_ms: u64,
    /// Last change, ms.
    pub updated_ms: u64,
    /// Cover chosen by UpdateFigureCluster: (uri, figure id).
    pub cover: Option<(String, String)>,
    /// The faces.
    pub members: Vec<Member>,
    /// Mean of the members' embeddings (normalised), when any had one.
    pub centroid: Option<Vec<f32>>,
    /// Number of embeddings in the centroid.
    pub centroid_weight: u64,
    /// The identity hint that formed the cluster.
    pub hint: Option<String>,
}

impl Record for Cluster {
    const KIND: &'static str = "imm.cluster";
    const VERSION: u8 = 1;
}

/// The text a label value is matched as: a JSON string's content, else the JSON text.
pub fn label_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::String(s)) => s,
        _ => json.to_string(),
    }
}

/// `Sort` keys of QueryFigureClusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    /// Default: by ObjectId.
    ObjectId,
    /// `ImageCount`.
    ImageCount,
    /// `VideoCount`.
    VideoCount,
    /// `ProjectName`.
    ProjectName,
    /// `DatasetName`.
    DatasetName,
    /// `CreateTime`.
    CreateTime,
    /// `UpdateTime`.
    UpdateTime,
    /// `Gender`.
    Gender,
    /// `FaceCount`.
    FaceCount,
    /// `Name`.
    Name,
}

impl SortKey {
    /// Parses the wire spelling (empty = ObjectId).
    pub fn from_wire(s: &str) -> Option<SortKey> {
        Some(match s {
            "" | "ObjectId" => SortKey::ObjectId,
            "ImageCount" => SortKey::ImageCount,
            "VideoCount" => SortKey::VideoCount,
            "ProjectName" => SortKey::ProjectName,
            "DatasetName" => SortKey::DatasetName,
            "CreateTime" => SortKey::CreateTime,
            "UpdateTime" => SortKey::UpdateTime,
            "Gender" => SortKey::Gender,
            "FaceCount" => SortKey::FaceCount,
            "Name" => SortKey::Name,
            _ => return None,
        })
    }

    /// Whether the key's values are numbers (else strings).
    pub fn is_int(self) -> bool {
        matches!(
            self,
            SortKey::ImageCount
                | SortKey::VideoCount
                | SortKey::FaceCount
                | SortKey::CreateTime
                | SortKey::UpdateTime
        )
    }
}

/// A sort value: numbers before strings never mix within one key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SortVal {
    /// Counts and times.
    Int(i64),
    /// Names and genders.
    Str(String),
}

/// Statistics of a cluster, derived from its members.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterStats {
    /// `FaceCount`.
    pub face_count: u64,
    /// `ImageCount`.
    pub image_count: u64,
    /// `VideoCount`.
    pub video_count: u64,
    /// `Gender`: the most frequent one.
    pub gender: Option<String>,
    /// `AverageAge`.
    pub average_age: Option<f64>,
    /// `MinAge`.
    pub min_age: Option<f64>,
    /// `MaxAge`.
    pub max_age: Option<f64>,
    /// The cover face: (uri, figure id).
    pub cover: Option<(String, String)>,
}

impl Cluster {
    /// The cluster's value for a sort key.
    pub fn sort_value(&self, key: SortKey) -> SortVal {
        self.sort_value_with(&self.stats(), key)
    }

    /// The cluster's value for a sort key, with its statistics computed already.
    pub fn sort_value_with(&self, st: &ClusterStats, key: SortKey) -> SortVal {
        match key {
            SortKey::ObjectId => SortVal::Str(self.object_id.clone()),
            SortKey::ImageCount => SortVal::Int(st.image_count as i64),
            SortKey::VideoCount => SortVal::Int(st.video_count as i64),
            SortKey::FaceCount => SortVal::Int(st.face_count as i64),
            SortKey::ProjectName => SortVal::Str(self.project.clone()),
            SortKey::DatasetName => SortVal::Str(self.dataset.clone()),
            SortKey::CreateTime => SortVal::Int(self.created_ms as i64),
            SortKey::UpdateTime => SortVal::Int(self.updated_ms as i64),
            SortKey::Gender => SortVal::Str(st.gender.clone().unwrap_or_default()),
            SortKey::Name => SortVal::Str(self.name.clone()),
        }
    }

    /// Statistics over the members; the cover is the chosen one while it is a member, else the
    /// best-quality face.
    pub fn stats(&self) -> ClusterStats {
        let mut images = std::collections::BTreeSet::new();
        let mut videos = std::collections::BTreeSet::new();
        let mut genders: std::collections::BTreeMap<&str, usize> = Default::default();
        let ages: Vec<f64> = self.members.iter().filter_map(|m| m.age).collect();
        for m in &self.members {
            if m.video {
                videos.insert(m.uri.as_str());
            } else {
                images.insert(m.uri.as_str());
            }
            if let Some(g) = &m.gender {
                *genders.entry(g.as_str()).or_default() += 1;
            }
        }
        let gender = genders
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(g, _)| g.to_string());
        let chosen = self
            .cover
            .as_ref()
            .filter(|(u, f)| {
                self.members
                    .iter()
                    .any(|m| m.uri == *u && m.figure_id == *f)
            })
            .cloned();
        let best = self
            .members
            .iter()
            .max_by(|a, b| {
                a.quality
                    .total_cmp(&b.quality)
                    .then_with(|| b.uri.cmp(&a.uri))
            })
            .map(|m| (m.uri.clone(), m.figure_id.clone()));
        ClusterStats {
            face_count: self.members.len() as u64,
            image_count: images.len() as u64,
            video_count: videos.len() as u64,
            gender,
            average_age: (!ages.is_empty()).then(|| ages.iter().sum::<f64>() / ages.len() as f64),
            min_age: ages.iter().copied().reduce(f64::min),
            max_age: ages.iter().copied().reduce(f64::max),
            cover: chosen.or(best),
        }
    }
}

/// `Status` of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    /// Running.
    Running,
    /// Finished.
    Succeeded,
    /// Failed.
    Failed,
}

impl TaskStatus {
    /// The wire spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            TaskStatus::Running => "Running",
            TaskStatus::Succeeded => "Succeeded",
            TaskStatus::Failed => "Failed",
        }
    }

    /// Parses the wire spelling.
    pub fn from_wire(s: &str) -> Option<TaskStatus> {
        [
            TaskStatus::Running,
            TaskStatus::Succeeded,
            TaskStatus::Failed,
        ]
        .into_iter()
        .find(|t| t.as_wire() == s)
    }
}

/// What a task does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskWork {
    /// Cluster the pending faces of the dataset.
    Clustering,
    /// Move the faces of `froms` into `to` and remove the sources.
    Merging {
        /// Source clusters.
        froms: Vec<String>,
        /// Destination cluster.
        to: String,
    },
}

/// An asynchronous task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// `TaskId`.
    pub task_id: String,
    /// `TaskType`.
    pub task_type: String,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Project.
    pub project: String,
    /// Dataset.
    pub dataset: String,
    /// The work.
    pub work: TaskWork,
    /// Status.
    pub status: TaskStatus,
    /// Error code when failed.
    pub code: String,
    /// Error message when failed.
    pub message: String,
    /// Start time, ms.
    pub start_ms: u64,
    /// End time, ms.
    pub end_ms: Option<u64>,
    /// Not done before this time (ms), so that clients see it Running.
    pub not_before_ms: u64,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
    /// `UserData`.
    pub user_data: String,
    /// `EventId`.
    pub event_id: String,
    /// The creating request's parameters, as JSON text.
    pub request_definition: String,
}

impl Record for Task {
    const KIND: &'static str = "imm.task";
    const VERSION: u8 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(uri: &str, age: f64, gender: &str, q: f64, video: bool) -> Member {
        Member {
            uri: uri.into(),
            figure_id: format!("f-{uri}"),
            age: Some(age),
            gender: Some(gender.into()),
            quality: q,
            video,
        }
    }

    #[test]
    fn cluster_stats_count_images_videos_ages_gender_and_pick_the_best_cover() {
        let c = Cluster {
            object_id: "Cluster-1".into(),
            account: "1".into(),
            region: "r".into(),
            project: "p".into(),
            dataset: "d".into(),
            name: String::new(),
            custom_id: String::new(),
            labels: vec![],
            meta_lock_version: 0,
            created_ms: 0,
            updated_ms: 0,
            cover: None,
            members: vec![
                member("a", 20.0, "female", 0.5, false),
                member("b", 40.0, "female", 0.9, false),
                member("v", 30.0, "male", 0.1, true),
            ],
            centroid: None,
            centroid_weight: 0,
            hint: None,
        };
        let s = c.stats();
        assert_eq!((s.face_count, s.image_count, s.video_count), (3, 2, 1));
        assert_eq!(s.gender.as_deref(), Some("female"));
        assert_eq!(
            (s.average_age, s.min_age, s.max_age),
            (Some(30.0), Some(20.0), Some(40.0))
        );
        assert_eq!(s.cover, Some(("b".into(), "f-b".into())));
        let mut chosen = c.clone();
        chosen.cover = Some(("a".into(), "f-a".into()));
        assert_eq!(chosen.stats().cover, Some(("a".into(), "f-a".into())));
        chosen.cover = Some(("gone".into(), "x".into()));
        assert_eq!(
            chosen.stats().cover,
            Some(("b".into(), "f-b".into())),
            "a cover that left falls back"
        );
    }
}
