//! The read-only public image catalogue, present in every region, and the instance families
//! whose architecture `DescribeImages.InstanceType` filters on.
//!
//! Public image ids are fixed and the same in every region, as on the real cloud. Nobody can
//! modify, delete, share or export them.

use super::model::{
    Image, ImageSource, ImageState, Snapshot, BOOT_LEGACY_BIOS, LICENSE_TENCENT_CLOUD,
};

/// Creator shown on public images.
pub const PUBLIC_CREATOR: &str = "tencentcloud";

struct Entry {
    id: &'static str,
    os_name: &'static str,
    platform: &'static str,
    architecture: &'static str,
    size_gb: u64,
    created_ms: u64,
}

/// Created times are fixed so that answers are stable.
const ENTRIES: &[Entry] = &[
    Entry {
        id: "img-eb30mz89",
        os_name: "TencentOS Server 3.1 (TK4)",
        platform: "TencentOS",
        architecture: "x86_64",
        size_gb: 20,
        created_ms: 1_690_000_000_000,
    },
    Entry {
        id: "img-hdt9xxkt",
        os_name: "TencentOS Server 3.1 (TK4) for ARM64",
        platform: "TencentOS",
        architecture: "arm",
        size_gb: 20,
        created_ms: 1_690_000_100_000,
    },
    Entry {
        id: "img-487zeit5",
        os_name: "Ubuntu Server 22.04 LTS 64位",
        platform: "Ubuntu",
        architecture: "x86_64",
        size_gb: 20,
        created_ms: 1_680_000_000_000,
    },
    Entry {
        id: "img-22trbn9x",
        os_name: "Ubuntu Server 22.04 LTS 64位 for ARM64",
        platform: "Ubuntu",
        architecture: "arm",
        size_gb: 20,
        created_ms: 1_680_000_100_000,
    },
    Entry {
        id: "img-pi0ii46r",
        os_name: "Ubuntu Server 20.04 LTS 64位",
        platform: "Ubuntu",
        architecture: "x86_64",
        size_gb: 20,
        created_ms: 1_600_000_000_000,
    },
    Entry {
        id: "img-l8og963d",
        os_name: "CentOS 7.9 64位",
        platform: "CentOS",
        architecture: "x86_64",
        size_gb: 20,
        created_ms: 1_620_000_000_000,
    },
    Entry {
        id: "img-87aeagf9",
        os_name: "CentOS 7.9 64位 for ARM64",
        platform: "CentOS",
        architecture: "arm",
        size_gb: 20,
        created_ms: 1_620_000_100_000,
    },
    Entry {
        id: "img-o3ycss2p",
        os_name: "Debian 12.0 64位",
        platform: "Debian",
        architecture: "x86_64",
        size_gb: 20,
        created_ms: 1_700_000_000_000,
    },
    Entry {
        id: "img-qlzp4oea",
        os_name: "Debian 11.1 64位",
        platform: "Debian",
        architecture: "x86_64",
        size_gb: 20,
        created_ms: 1_640_000_000_000,
    },
    Entry {
        id: "img-9id7emv7",
        os_name: "Windows Server 2022 数据中心版 64位中文版",
        platform: "Windows",
        architecture: "x86_64",
        size_gb: 50,
        created_ms: 1_670_000_000_000,
    },
    Entry {
        id: "img-1eckmcv3",
        os_name: "Windows Server 2019 数据中心版 64位中文版",
        platform: "Windows",
        architecture: "x86_64",
        size_gb: 50,
        created_ms: 1_650_000_000_000,
    },
];

fn build(e: &Entry, region: &str) -> Image {
    Image {
        id: e.id.to_string(),
        owner: PUBLIC_CREATOR.to_string(),
        region: region.to_string(),
        name: e.os_name.to_string(),
        description: e.os_name.to_string(),
        family: String::new(),
        deprecated: false,
        os_name: e.os_name.to_string(),
        platform: e.platform.to_string(),
        architecture: e.architecture.to_string(),
        size_gb: e.size_gb,
        source: ImageSource::Official,
        state: ImageState::Normal,
        pending: None,
        created_ms: e.created_ms,
        updated_ms: e.created_ms,
        instance_id: None,
        snapshots: Vec::<Snapshot>::new(),
        tags: Vec::new(),
        license_type: LICENSE_TENCENT_CLOUD.into(),
        cloudinit: true,
        boot_mode: BOOT_LEGACY_BIOS.into(),
        shared_with: Vec::new(),
        sync_source: None,
    }
}

/// Every public image, as seen in `region`, in catalogue order.
pub fn public_images(region: &str) -> Vec<Image> {
    ENTRIES.iter().map(|e| build(e, region)).collect()
}

/// The public image with this id, as seen in `region`.
pub fn public_image(id: &str, region: &str) -> Option<Image> {
    ENTRIES
        .iter()
        .find(|e| e.id == id)
        .map(|e| build(e, region))
}

/// Whether an id belongs to the catalogue (new custom images never take one).
pub fn is_public_id(id: &str) -> bool {
    ENTRIES.iter().any(|e| e.id == id)
}

/// Number of public images.
pub fn public_count() -> usize {
    ENTRIES.len()
}

/// Instance families known to run ARM64 images.
const ARM_FAMILIES: &[&str] = &["SR1", "SR2"];
/// Instance families known to run x86 images.
const X86_FAMILIES: &[&str] = &[
    "S1", "S2", "S3", "S4", "S5", "S6", "S8", "SA1", "SA2", "SA3", "SA4", "SA5", "SA9", "M5", "M6",
    "MA3", "C3", "C4", "C5", "C6", "IT5", "D3", "GN7", "GN10X", "BMA5", "BMS5",
];

/// The architectures an instance type runs, or `None` when its family is not known.
pub fn architectures_for(instance_type: &str) -> Option<&'static [&'static str]> {
    let family = instance_type.split('.').next().unwrap_or("");
    if ARM_FAMILIES.contains(&family) {
        Some(&["arm"])
    } else if X86_FAMILIES.contains(&family) {
        Some(&["x86_64", "i386"])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_well_formed_unique_ids_and_both_architectures() {
        let imgs = public_images("ap-guangzhou");
        let mut ids: Vec<_> = imgs.iter().map(|i| i.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), imgs.len());
        for id in &ids {
            assert!(id.len() == 12 && id.starts_with("img-"));
            assert!(id[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        }
        assert!(imgs.iter().any(|i| i.architecture == "arm"));
        for p in ["TencentOS", "Ubuntu", "CentOS", "Debian", "Windows"] {
            assert!(imgs.iter().any(|i| i.platform == p), "{p}");
        }
    }

    #[test]
    fn instance_families_map_to_architectures() {
        assert_eq!(architectures_for("SR1.MEDIUM2"), Some(&["arm"][..]));
        assert_eq!(
            architectures_for("S5.MEDIUM4"),
            Some(&["x86_64", "i386"][..])
        );
        assert_eq!(architectures_for("ZZ9.SMALL1"), None);
    }
}
