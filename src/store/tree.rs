//! The catalogue of trees: every tree the store holds, its name on disk, and which of them are
//! the store's own metadata (the domains' `portable.rs` lists name the others).

/// The trees of the store. Every transaction spans all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    /// Store bookkeeping: the schema version.
    Meta,
    /// `image id -> Image` for every custom image.
    Images,
    /// `owner \0 region \0 !created_ms image id -> ()`: an account's images, newest first.
    ImagesByOwner,
    /// `owner \0 region \0 name -> image id`: the duplicate-name index.
    ImageNames,
    /// `owner \0 region -> u64`: custom image count, for quota.
    ImageCounts,
    /// `receiver \0 region \0 image id -> ()`: images shared to an account.
    ImageShares,
    /// `task id -> ExportTask`: recorded ExportImages tasks.
    ImageExports,
    /// `account \0 region \0 project -> Project`.
    ImmProjects,
    /// `account \0 region \0 project \0 dataset -> Dataset`.
    ImmDatasets,
    /// `dataset scope + uri -> FileMeta`.
    ImmFiles,
    /// `dataset scope + cluster id -> Cluster`.
    ImmClusters,
    /// `dataset scope + uri \0 figure id -> ()`: faces waiting for clustering.
    ImmPending,
    /// `dataset scope + identity hint -> cluster id`.
    ImmHints,
    /// `account \0 region \0 project \0 task id -> Task`.
    ImmTasks,
    /// `dataset scope + sort tag + sort value + cluster id -> ()`, and `scope + 0 -> count`:
    /// QueryFigureClusters' order index.
    ImmClusterOrder,
    /// The access domain's records (sub-users, access keys, custom policies, roles) under
    /// one prefix letter each (`access/keys.rs`).
    Access,
}

impl Tree {
    /// Every tree, in the order of a transaction's views.
    pub const ALL: [Tree; 16] = [
        Tree::Meta,
        Tree::Images,
        Tree::ImagesByOwner,
        Tree::ImageNames,
        Tree::ImageCounts,
        Tree::ImageShares,
        Tree::ImageExports,
        Tree::ImmProjects,
        Tree::ImmDatasets,
        Tree::ImmFiles,
        Tree::ImmClusters,
        Tree::ImmPending,
        Tree::ImmHints,
        Tree::ImmTasks,
        Tree::ImmClusterOrder,
        Tree::Access,
    ];

    /// The store's own trees (schema version, acknowledged sequence, reset and rewrite marks,
    /// and the domains' few meta keys). No domain owns them and no reset drops them.
    pub const METADATA: [Tree; 1] = [Tree::Meta];

    /// The tree's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Images => "cvm.images",
            Tree::ImagesByOwner => "cvm.images_by_owner",
            Tree::ImageNames => "cvm.image_names",
            Tree::ImageCounts => "cvm.image_counts",
            Tree::ImageShares => "cvm.image_shares",
            Tree::ImageExports => "cvm.image_exports",
            Tree::ImmProjects => "imm.projects",
            Tree::ImmDatasets => "imm.datasets",
            Tree::ImmFiles => "imm.files",
            Tree::ImmClusters => "imm.clusters",
            Tree::ImmPending => "imm.pending",
            Tree::ImmHints => "imm.hints",
            Tree::ImmTasks => "imm.tasks",
            Tree::ImmClusterOrder => "imm.cluster_order",
            Tree::Access => "access.principals",
        }
    }

    /// The tree called `name` on disk.
    pub fn by_name(name: &str) -> Option<Tree> {
        Tree::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tree's position in [`Tree::ALL`] (also its tag in a rewrite journal entry).
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The tree at position `i` of [`Tree::ALL`].
    pub(crate) fn from_index(i: usize) -> Option<Tree> {
        Tree::ALL.get(i).copied()
    }
}
