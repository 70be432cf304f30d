//! File metadata with faces: IndexFileMeta (synchronous here), UpdateFileMeta, Get, Delete and
//! their batch forms. Every file write is one transaction over the file, its dataset's counters,
//! the clusters its faces join or leave, and the pending-face index.
//!
//! A face's `FigureClusterId` on input decides its standing: an existing cluster of the dataset
//! puts it there; `figure-cluster-id-independent` detaches it; `figure-cluster-id-unavailable`
//! leaves it for clustering; empty keeps an existing face as it is (a new one waits for
//! clustering); any other value is an identity hint that the next clustering task resolves.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::clock::now_ms;
use crate::store::Tree;

use super::error::{not_found, ImmError};
use super::keys::{dataset_key, dataset_scope, pending_key, scoped};
use super::model::{Face, FaceCluster, FileMeta};
use super::service::{
    abort, finish, get, join, mark_pending, put_file, tx_dataset, tx_get, tx_put, Caller,
    ClusterEdits, Imm,
};

/// What an input face says about its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterRef {
    /// Empty: keep an existing face's standing; a new face waits for clustering.
    Absent,
    /// `figure-cluster-id-unavailable`: wait for clustering.
    Unavailable,
    /// `figure-cluster-id-independent`: no cluster.
    Independent,
    /// A cluster id of the dataset, or else an identity hint.
    Named(String),
}

/// A face on input (from `File.Figures[]` or the admin ingestion route).
#[derive(Debug, Clone)]
pub struct FaceInput {
    /// `FigureId` (generated when absent).
    pub figure_id: Option<String>,
    /// Cluster standing.
    pub cluster: ClusterRef,
    /// `Age`.
    pub age: Option<f64>,
    /// `Gender`.
    pub gender: Option<String>,
    /// `FaceQuality`.
    pub quality: Option<f64>,
    /// Other detected attributes (Boundary, HeadPose, ...).
    pub attributes: Map<String, Value>,
    /// Embedding.
    pub embedding: Option<Vec<f32>>,
}

/// A file on input.
#[derive(Debug, Clone)]
pub struct FileInput {
    /// `URI`.
    pub uri: String,
    /// `MediaType`, when given.
    pub media_type: Option<String>,
    /// `Size`, when given (admin ingestion).
    pub size: Option<u64>,
    /// Other user fields (CustomLabels, CustomId, Title, ...); empty lists already dropped.
    pub fields: Map<String, Value>,
    /// Faces; `None` when absent or an empty list.
    pub faces: Option<Vec<FaceInput>>,
}

/// Media type from a URI's extension.
pub fn media_type_of(uri: &str) -> &'static str {
    let ext = uri.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "mp4" | "mov" | "avi" | "mkv" | "flv" | "webm" | "m4v" | "ts" | "wmv" => "video",
        "mp3" | "wav" | "aac" | "flac" | "ogg" | "m4a" => "audio",
        "pdf" | "doc" | "docx" | "xls" | "xlsx" | "ppt" | "pptx" | "txt" => "document",
        _ => "image",
    }
}

/// The largest `imm.max_figures_per_file` a configuration may set; the dialects refuse a
/// longer `Figures` list before decoding its faces.
pub const FIGURES_PER_FILE_CEILING: usize = 100_000;
/// Default most faces in one file (`imm.max_figures_per_file`).
pub const DEFAULT_MAX_FIGURES_PER_FILE: usize = 1000;

/// `Invalid` when a file would have `n` faces, more than `max`.
pub fn check_figure_count(n: usize, max: usize) -> Result<(), ImmError> {
    if n > max {
        return Err(ImmError::Invalid(format!(
            "File.Figures has {n} faces; at most {max} are accepted per file."
        )));
    }
    Ok(())
}

/// `Invalid` when the input has more than `max` faces or names a `FigureId` twice.
pub fn check_figures(inputs: &[FaceInput], max: usize) -> Result<(), ImmError> {
    check_figure_count(inputs.len(), max)?;
    let mut ids = HashSet::with_capacity(inputs.len());
    for (i, f) in inputs.iter().enumerate() {
        if let Some(id) = &f.figure_id {
            if !ids.insert(id.as_str()) {
                return Err(ImmError::Invalid(format!(
                    "File.Figures[{i}].FigureId {id} appears twice in the file."
                )));
            }
        }
    }
    Ok(())
}

/// A file's `ObjectId`: the hex SHA-256 of `account/region/project/dataset/uri`, so it is the
/// same whenever the file is indexed again (and in an imported document without one).
pub fn object_id(account: &str, region: &str, project: &str, dataset: &str, uri: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        format!("{account}/{region}/{project}/{dataset}/{uri}").as_bytes(),
    ))
}

/// How heavy a write of `files` is: files plus their faces.
fn weight(files: &[FileInput]) -> usize {
    files
        .iter()
        .map(|f| 1 + f.faces.as_ref().map_or(0, Vec::len))
        .sum()
}

/// Where a file write lands.
struct Place<'a> {
    c: Caller<'a>,
    project: &'a str,
    dataset: &'a str,
    scope: Vec<u8>,
    now: u64,
    max_figures: usize,
}

impl Place<'_> {
    /// Applies the input faces to `file`; with `replace`, faces not listed are removed. Linear
    /// in the faces of the file and of the input: faces are found through an index by id, and
    /// each touched cluster is read and written once ([`ClusterEdits`]).
    fn apply_faces(
        &self,
        tx: &crate::store::Tx<'_>,
        file: &mut FileMeta,
        inputs: &[FaceInput],
        replace: bool,
    ) -> Result<(), crate::store::TxError<ImmError>> {
        check_figures(inputs, self.max_figures).map_err(crate::store::TxError::Abort)?;
        let mut edits = ClusterEdits::default();
        if replace {
            let keep: HashSet<&str> = inputs
                .iter()
                .filter_map(|f| f.figure_id.as_deref())
                .collect();
            for i in 0..file.faces.len() {
                if !keep.contains(file.faces[i].figure_id.as_str()) {
                    edits.detach(tx, &self.scope, file, i)?;
                }
            }
            file.faces.retain(|f| keep.contains(f.figure_id.as_str()));
        }
        let mut at: HashMap<String, usize> = file
            .faces
            .iter()
            .enumerate()
            .map(|(i, f)| (f.figure_id.clone(), i))
            .collect();
        for input in inputs {
            let existing = input.figure_id.as_ref().and_then(|id| at.get(id).copied());
            let idx = match existing {
                Some(i) => {
                    let f = &mut file.faces[i];
                    if input.age.is_some() {
                        f.age = input.age;
                    }
                    if input.gender.is_some() {
                        f.gender = input.gender.clone();
                    }
                    if input.quality.is_some() {
                        f.quality = input.quality;
                    }
                    if input.embedding.is_some() {
                        f.embedding = input.embedding.clone();
                    }
                    if !input.attributes.is_empty() {
                        let mut attrs: Map<String, Value> =
                            serde_json::from_str(&f.attributes).unwrap_or_default();
                        attrs.extend(input.attributes.clone());
                        f.attributes = Value::Object(attrs).to_string();
                    }
                    i
                }
                None => {
                    let figure_id = input
                        .figure_id
                        .clone()
                        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                    at.insert(figure_id.clone(), file.faces.len());
                    file.faces.push(Face {
                        figure_id,
                        cluster: FaceCluster::Independent,
                        age: input.age,
                        gender: input.gender.clone(),
                        quality: input.quality,
                        attributes: Value::Object(input.attributes.clone()).to_string(),
                        embedding: input.embedding.clone(),
                    });
                    let i = file.faces.len() - 1;
                    mark_pending(file, i, None);
                    if input.cluster == ClusterRef::Absent {
                        continue;
                    }
                    i
                }
            };
            match &input.cluster {
                ClusterRef::Absent => {}
                ClusterRef::Unavailable => {
                    if !matches!(file.faces[idx].cluster, FaceCluster::Pending { .. }) {
                        edits.detach(tx, &self.scope, file, idx)?;
                        mark_pending(file, idx, None);
                    }
                }
                ClusterRef::Independent => {
                    edits.detach(tx, &self.scope, file, idx)?;
                    file.faces[idx].cluster = FaceCluster::Independent;
                }
                ClusterRef::Named(id) => {
                    if file.faces[idx].cluster == FaceCluster::Assigned(id.clone()) {
                        continue;
                    }
                    edits.detach(tx, &self.scope, file, idx)?;
                    match edits.cluster(tx, &self.scope, id)? {
                        Some(cl) => {
                            join(cl, file, idx, self.now);
                            edits.changed(id);
                        }
                        None => mark_pending(file, idx, Some(id.clone())),
                    }
                }
            }
        }
        self.refresh_members(tx, file, &mut edits)?;
        edits.apply(tx, &self.scope, &file.uri, self.now)
    }

    /// Brings the cluster members of `file`'s assigned faces in step with the file as it is now
    /// (one pass over each touched cluster's members; a cluster whose members already agree is
    /// not rewritten).
    fn refresh_members(
        &self,
        tx: &crate::store::Tx<'_>,
        file: &FileMeta,
        edits: &mut ClusterEdits,
    ) -> Result<(), crate::store::TxError<ImmError>> {
        let mut by_cluster: HashMap<&str, HashMap<&str, &Face>> = HashMap::new();
        for f in &file.faces {
            if let FaceCluster::Assigned(id) = &f.cluster {
                by_cluster
                    .entry(id.as_str())
                    .or_default()
                    .insert(f.figure_id.as_str(), f);
            }
        }
        let video = file.is_video();
        for (id, faces) in by_cluster {
            let Some(cl) = edits.cluster(tx, &self.scope, id)? else {
                continue;
            };
            let mut changed = false;
            for m in cl.members.iter_mut().filter(|m| m.uri == file.uri) {
                if let Some(f) = faces.get(m.figure_id.as_str()) {
                    let quality = f.quality.unwrap_or(0.0);
                    if m.age != f.age
                        || m.gender != f.gender
                        || m.quality != quality
                        || m.video != video
                    {
                        m.age = f.age;
                        m.gender = f.gender.clone();
                        m.quality = quality;
                        m.video = video;
                        changed = true;
                    }
                }
            }
            if changed {
                edits.changed(id);
            }
        }
        Ok(())
    }

    /// The cluster members of `file`'s faces brought in step, nothing else changed.
    fn refresh_only(
        &self,
        tx: &crate::store::Tx<'_>,
        file: &FileMeta,
    ) -> Result<(), crate::store::TxError<ImmError>> {
        let mut edits = ClusterEdits::default();
        self.refresh_members(tx, file, &mut edits)?;
        edits.apply(tx, &self.scope, &file.uri, self.now)
    }

    /// IndexFileMeta of one file: creates it or re-indexes it (user fields replaced; faces
    /// replaced when the input lists any).
    fn index_one(
        &self,
        tx: &crate::store::Tx<'_>,
        input: &FileInput,
    ) -> Result<(), crate::store::TxError<ImmError>> {
        let dkey = dataset_key(self.c, self.project, self.dataset);
        let mut d = tx_dataset(tx, self.c, self.project, self.dataset)?;
        let key = scoped(&self.scope, &input.uri);
        let media = input
            .media_type
            .clone()
            .unwrap_or_else(|| media_type_of(&input.uri).to_string());
        let stored = tx_get::<FileMeta>(tx, Tree::ImmFiles, &key)?;
        let was_pending = stored.as_ref().is_some_and(FileMeta::has_pending);
        let mut file = match stored {
            Some(mut f) => {
                d.total_file_size = d.total_file_size.saturating_sub(f.size);
                f.fields = Value::Object(input.fields.clone()).to_string();
                f.media_type = media;
                f.size = input.size.unwrap_or(f.size);
                f.updated_ms = self.now;
                f
            }
            None => {
                if d.file_count as i64 >= d.limits.max_file_count {
                    return abort(ImmError::LimitExceeded(format!(
                        "Message: resource count exceeds the limit: dataset {} allows {} files",
                        d.name, d.limits.max_file_count
                    )));
                }
                d.file_count += 1;
                FileMeta {
                    uri: input.uri.clone(),
                    object_id: object_id(
                        self.c.account,
                        self.c.region,
                        self.project,
                        self.dataset,
                        &input.uri,
                    ),
                    media_type: media,
                    size: input.size.unwrap_or(0),
                    fields: Value::Object(input.fields.clone()).to_string(),
                    faces: Vec::new(),
                    created_ms: self.now,
                    updated_ms: self.now,
                }
            }
        };
        d.total_file_size += file.size;
        if d.total_file_size as i64 > d.limits.max_total_file_size {
            return abort(ImmError::LimitExceeded(format!(
                "Message: input quota exceed the max value: dataset {} allows {} bytes",
                d.name, d.limits.max_total_file_size
            )));
        }
        match &input.faces {
            Some(faces) => self.apply_faces(tx, &mut file, faces, true)?,
            None => self.refresh_only(tx, &file)?,
        }
        d.updated_ms = self.now;
        tx_put(tx, Tree::ImmDatasets, &dkey, &d)?;
        put_file(tx, &self.scope, &file, was_pending)
    }

    /// UpdateFileMeta of one file: given fields replace stored ones; listed faces change.
    fn update_one(
        &self,
        tx: &crate::store::Tx<'_>,
        input: &FileInput,
    ) -> Result<(), crate::store::TxError<ImmError>> {
        tx_dataset(tx, self.c, self.project, self.dataset)?;
        let key = scoped(&self.scope, &input.uri);
        let Some(mut file) = tx_get::<FileMeta>(tx, Tree::ImmFiles, &key)? else {
            return abort(not_found("file", &input.uri));
        };
        let was_pending = file.has_pending();
        let mut fields: Map<String, Value> = serde_json::from_str(&file.fields).unwrap_or_default();
        fields.extend(input.fields.clone());
        file.fields = Value::Object(fields).to_string();
        if let Some(m) = &input.media_type {
            file.media_type = m.clone();
        }
        file.updated_ms = self.now;
        match &input.faces {
            Some(faces) => self.apply_faces(tx, &mut file, faces, false)?,
            None => self.refresh_only(tx, &file)?,
        }
        put_file(tx, &self.scope, &file, was_pending)
    }

    /// DeleteFileMeta of one file; `Ok(false)` when it does not exist.
    fn delete_one(
        &self,
        tx: &crate::store::Tx<'_>,
        uri: &str,
    ) -> Result<bool, crate::store::TxError<ImmError>> {
        let dkey = dataset_key(self.c, self.project, self.dataset);
        let mut d = tx_dataset(tx, self.c, self.project, self.dataset)?;
        let key = scoped(&self.scope, uri);
        let Some(file) = tx_get::<FileMeta>(tx, Tree::ImmFiles, &key)? else {
            return Ok(false);
        };
        let mut edits = ClusterEdits::default();
        for i in 0..file.faces.len() {
            edits.detach(tx, &self.scope, &file, i)?;
        }
        edits.apply(tx, &self.scope, &file.uri, self.now)?;
        if file.has_pending() {
            tx.remove(Tree::ImmPending, &pending_key(&self.scope, uri))?;
        }
        tx.remove(Tree::ImmFiles, &key)?;
        d.file_count = d.file_count.saturating_sub(1);
        d.total_file_size = d.total_file_size.saturating_sub(file.size);
        d.updated_ms = self.now;
        tx_put(tx, Tree::ImmDatasets, &dkey, &d)?;
        Ok(true)
    }
}

impl Imm {
    fn place<'a>(&self, c: Caller<'a>, project: &'a str, dataset: &'a str) -> Place<'a> {
        Place {
            c,
            project,
            dataset,
            scope: dataset_scope(c, project, dataset),
            now: now_ms(),
            max_figures: self.settings.max_figures_per_file,
        }
    }

    /// IndexFileMeta / BatchIndexFileMeta: all files in one transaction.
    pub async fn index_files(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        files: &[FileInput],
    ) -> Result<(), ImmError> {
        let place = self.place(c, project, dataset);
        let write = || {
            finish(
                self.store
                    .transact(|tx| files.iter().try_for_each(|f| place.index_one(tx, f))),
            )
        };
        if weight(files) >= crate::blocking::HEAVY {
            crate::blocking::off_workers(write)?;
        } else {
            write()?;
        }
        self.durable().await
    }

    /// UpdateFileMeta.
    pub async fn update_file(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        file: &FileInput,
    ) -> Result<(), ImmError> {
        let place = self.place(c, project, dataset);
        let write = || finish(self.store.transact(|tx| place.update_one(tx, file)));
        if weight(std::slice::from_ref(file)) >= crate::blocking::HEAVY {
            crate::blocking::off_workers(write)?;
        } else {
            write()?;
        }
        self.durable().await
    }

    /// BatchUpdateFileMeta: each file on its own; the result per file (`Err` message).
    pub async fn update_files(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        files: &[FileInput],
    ) -> Result<Vec<Result<(), ImmError>>, ImmError> {
        super::service::dataset_of(&self.store, c, project, dataset)?;
        let place = self.place(c, project, dataset);
        let write = || {
            files
                .iter()
                .map(|f| finish(self.store.transact(|tx| place.update_one(tx, f))))
                .collect()
        };
        let results = if weight(files) >= crate::blocking::HEAVY {
            crate::blocking::off_workers(write)
        } else {
            write()
        };
        self.durable().await?;
        Ok(results)
    }

    /// GetFileMeta.
    pub fn get_file(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        uri: &str,
    ) -> Result<FileMeta, ImmError> {
        super::service::dataset_of(&self.store, c, project, dataset)?;
        let scope = dataset_scope(c, project, dataset);
        get::<FileMeta>(&self.store, Tree::ImmFiles, &scoped(&scope, uri))?
            .ok_or_else(|| not_found("file", uri))
    }

    /// BatchGetFileMeta: the files found, in request order.
    pub fn get_files(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        uris: &[String],
    ) -> Result<Vec<FileMeta>, ImmError> {
        super::service::dataset_of(&self.store, c, project, dataset)?;
        let scope = dataset_scope(c, project, dataset);
        let mut out = Vec::new();
        for u in uris {
            if let Some(f) = get::<FileMeta>(&self.store, Tree::ImmFiles, &scoped(&scope, u))? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// SimpleQuery by `FigureClusterId`: the files with a face of the cluster, by URI after
    /// `after`, at most `max`; how many there are in all; whether more follow the page.
    pub fn files_of_cluster(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        cluster: &str,
        after: Option<&str>,
        max: usize,
    ) -> Result<(Vec<FileMeta>, usize, bool), ImmError> {
        let cl = self.get_cluster(c, project, dataset, cluster)?;
        let mut uris: Vec<String> = cl.members.iter().map(|m| m.uri.clone()).collect();
        uris.sort();
        uris.dedup();
        let total = uris.len();
        let mut page: Vec<String> = uris
            .into_iter()
            .filter(|u| after.is_none_or(|a| u.as_str() > a))
            .take(max + 1)
            .collect();
        let more = page.len() > max;
        page.truncate(max);
        Ok((self.get_files(c, project, dataset, &page)?, total, more))
    }

    /// DeleteFileMeta (`must_exist`: a missing file is `ResourceNotFound`) and
    /// BatchDeleteFileMeta (missing files are skipped). Clusters left without faces go too.
    pub async fn delete_files(
        &self,
        c: Caller<'_>,
        project: &str,
        dataset: &str,
        uris: &[String],
        must_exist: bool,
    ) -> Result<(), ImmError> {
        let place = self.place(c, project, dataset);
        finish(self.store.transact(|tx| {
            for u in uris {
                if !place.delete_one(tx, u)? && must_exist {
                    return abort(not_found("file", u));
                }
            }
            Ok(())
        }))?;
        self.durable().await
    }
}
