//! The image record and its states (cvm.md §5.1, §7).

use serde::{Deserialize, Serialize};

use crate::store::Record;

/// `OsName` of a new custom image (CreateImage) and of a document's image entry by default.
pub const DEFAULT_OS_NAME: &str = "TencentOS Server 3.1 (TK4)";
/// `Platform` of a new custom image by default.
pub const DEFAULT_PLATFORM: &str = "TencentOS";
/// `Architecture` of a new custom image by default.
pub const DEFAULT_ARCHITECTURE: &str = "x86_64";
/// `ImageSize` (GiB) of a new custom image, and the size of each of its snapshots.
pub const DEFAULT_SIZE_GB: u64 = 50;
/// The platform of Windows images (they cannot be exported).
pub const PLATFORM_WINDOWS: &str = "Windows";
/// `LicenseType` of images licensed through Tencent Cloud (the default).
pub const LICENSE_TENCENT_CLOUD: &str = "TencentCloud";
/// `LicenseType` of bring-your-own-licence images (they cannot be shared).
pub const LICENSE_BYOL: &str = "BYOL";
/// Boot mode of legacy BIOS images (the default).
pub const BOOT_LEGACY_BIOS: &str = "Legacy BIOS";
/// Boot mode of UEFI images.
pub const BOOT_UEFI: &str = "UEFI";
/// `DiskUsage` of the system disk's snapshot.
pub const DISK_SYSTEM: &str = "SYSTEM_DISK";
/// `DiskUsage` of a data disk's snapshot.
pub const DISK_DATA: &str = "DATA_DISK";

/// `ImageState` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageState {
    /// Being made by CreateImage.
    Creating,
    /// Usable.
    Normal,
    /// CreateImage failed.
    CreateFailed,
    /// Being copied by SyncImages.
    Syncing,
    /// ImportImage in progress.
    Importing,
    /// ImportImage failed.
    ImportFailed,
}

impl ImageState {
    /// Every state.
    pub const ALL: [ImageState; 6] = [
        ImageState::Creating,
        ImageState::Normal,
        ImageState::CreateFailed,
        ImageState::Syncing,
        ImageState::Importing,
        ImageState::ImportFailed,
    ];

    /// The wire spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            ImageState::Creating => "CREATING",
            ImageState::Normal => "NORMAL",
            ImageState::CreateFailed => "CREATEFAILED",
            ImageState::Syncing => "SYNCING",
            ImageState::Importing => "IMPORTING",
            ImageState::ImportFailed => "IMPORTFAILED",
        }
    }

    /// Parses the wire spelling.
    pub fn from_wire(s: &str) -> Option<ImageState> {
        Self::ALL.into_iter().find(|st| st.as_wire() == s)
    }

    /// Every state's wire spelling, comma separated (for messages).
    pub fn wire_list() -> String {
        Self::ALL.map(ImageState::as_wire).join(", ")
    }

    /// States in which an operation is still running on the image.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ImageState::Creating | ImageState::Syncing | ImageState::Importing
        )
    }
}

/// `ImageSource` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageSource {
    /// A public image of the catalogue.
    Official,
    /// Made by CreateImage.
    CreateImage,
    /// Made by ImportImage.
    ExternalImport,
}

impl ImageSource {
    /// The wire spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            ImageSource::Official => "OFFICIAL",
            ImageSource::CreateImage => "CREATE_IMAGE",
            ImageSource::ExternalImport => "EXTERNAL_IMPORT",
        }
    }
}

/// `ImageType` values, which depend on who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    /// The caller's own custom image.
    Private,
    /// An official image.
    Public,
    /// Shared to the caller by another account.
    Shared,
}

impl ImageType {
    /// The wire spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            ImageType::Private => "PRIVATE_IMAGE",
            ImageType::Public => "PUBLIC_IMAGE",
            ImageType::Shared => "SHARED_IMAGE",
        }
    }

    /// Parses the wire spelling.
    pub fn from_wire(s: &str) -> Option<ImageType> {
        [ImageType::Private, ImageType::Public, ImageType::Shared]
            .into_iter()
            .find(|t| t.as_wire() == s)
    }
}

/// A timed transition: the image becomes `then` at `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// When the transient state began.
    pub started_ms: u64,
    /// When it ends.
    pub until_ms: u64,
    /// The state it ends in.
    pub then: ImageState,
}

/// A snapshot of an image (`SnapshotSet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `snap-xxxxxxxx`.
    pub id: String,
    /// `SYSTEM_DISK` or `DATA_DISK`.
    pub disk_usage: String,
    /// GiB.
    pub size_gb: u64,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// An account an image is shared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareGrant {
    /// Receiving account id.
    pub account: String,
    /// When the sharing began.
    pub created_ms: u64,
}

/// A custom image, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// `img-xxxxxxxx`.
    pub id: String,
    /// Owning account id.
    pub owner: String,
    /// Region the image lives in.
    pub region: String,
    /// `ImageName`, unique per (owner, region).
    pub name: String,
    /// `ImageDescription`.
    pub description: String,
    /// `ImageFamily` (`""` when none).
    pub family: String,
    /// `ImageDeprecated`.
    pub deprecated: bool,
    /// `OsName`.
    pub os_name: String,
    /// `Platform`.
    pub platform: String,
    /// `Architecture`.
    pub architecture: String,
    /// `ImageSize`, GiB.
    pub size_gb: u64,
    /// `ImageSource`.
    pub source: ImageSource,
    /// Stored state; see [`Image::state_at`] for the state a reader sees.
    pub state: ImageState,
    /// A timed transition in progress.
    pub pending: Option<Pending>,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
    /// Last change, ms since the epoch.
    pub updated_ms: u64,
    /// Source instance, for CreateImage from an instance.
    pub instance_id: Option<String>,
    /// `SnapshotSet`.
    pub snapshots: Vec<Snapshot>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `LicenseType`.
    pub license_type: String,
    /// `IsSupportCloudinit`.
    pub cloudinit: bool,
    /// Boot mode (ImportImage input; not on the wire model).
    pub boot_mode: String,
    /// Accounts the image is shared with.
    pub shared_with: Vec<ShareGrant>,
    /// For a SyncImages copy: the source image id.
    pub sync_source: Option<String>,
}

impl Record for Image {
    const KIND: &'static str = "cvm.image";
    const VERSION: u8 = 1;
}

impl Image {
    /// The state a reader sees at `now_ms`: a timed transition that is due has happened.
    pub fn state_at(&self, now_ms: u64) -> ImageState {
        match &self.pending {
            Some(p) if now_ms >= p.until_ms => p.then,
            _ => self.state,
        }
    }

    /// `SyncPercent` at `now_ms`: progress of a running transition, else 100.
    pub fn progress_at(&self, now_ms: u64) -> u64 {
        match &self.pending {
            Some(p) if now_ms < p.until_ms => {
                let span = p.until_ms.saturating_sub(p.started_ms).max(1);
                (now_ms.saturating_sub(p.started_ms) * 100 / span).min(99)
            }
            _ => 100,
        }
    }

    /// Folds a due transition into the stored state, before a write.
    pub fn settle(&mut self, now_ms: u64) {
        if let Some(p) = &self.pending {
            if now_ms >= p.until_ms {
                self.state = p.then;
                self.pending = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Image {
        Image {
            id: "img-abcdefgh".into(),
            owner: "1".into(),
            region: "ap-guangzhou".into(),
            name: "n".into(),
            description: String::new(),
            family: String::new(),
            deprecated: false,
            os_name: DEFAULT_OS_NAME.into(),
            platform: DEFAULT_PLATFORM.into(),
            architecture: DEFAULT_ARCHITECTURE.into(),
            size_gb: DEFAULT_SIZE_GB,
            source: ImageSource::CreateImage,
            state: ImageState::Creating,
            pending: Some(Pending {
                started_ms: 1000,
                until_ms: 3000,
                then: ImageState::Normal,
            }),
            created_ms: 1000,
            updated_ms: 1000,
            instance_id: None,
            snapshots: vec![],
            tags: vec![],
            license_type: LICENSE_TENCENT_CLOUD.into(),
            cloudinit: true,
            boot_mode: BOOT_LEGACY_BIOS.into(),
            shared_with: vec![],
            sync_source: None,
        }
    }

    #[test]
    fn a_creating_image_becomes_normal_when_its_delay_has_passed() {
        let img = sample();
        assert_eq!(img.state_at(2999), ImageState::Creating);
        assert_eq!(img.state_at(3000), ImageState::Normal);
        assert_eq!(img.progress_at(2000), 50);
        assert_eq!(img.progress_at(3000), 100);
    }

    #[test]
    fn settle_folds_a_due_transition_into_the_stored_state() {
        let mut img = sample();
        img.settle(2000);
        assert_eq!(img.state, ImageState::Creating);
        img.settle(3000);
        assert_eq!(img.state, ImageState::Normal);
        assert!(img.pending.is_none());
    }

    #[test]
    fn the_image_record_round_trips_through_the_versioned_encoding() {
        let img = sample();
        let bytes = crate::store::encode(&img).expect("encode");
        assert_eq!(bytes[0], 1);
        assert_eq!(crate::store::decode::<Image>(&bytes).expect("decode"), img);
    }

    #[test]
    fn every_state_round_trips_through_its_wire_spelling() {
        for s in ImageState::ALL {
            assert_eq!(ImageState::from_wire(s.as_wire()), Some(s));
        }
        assert_eq!(ImageState::from_wire("USING"), None);
    }
}
