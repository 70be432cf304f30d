//! Ordered upgrade steps for cloudtwin's stored records.
//!
//! The store keeps a schema version in its `meta` tree. When a data dir written by an older
//! cloudtwin is opened, every step whose `from` is at or above the stored version runs in
//! order, each rewriting the records of one tree, and the stored version moves to `from + 1`
//! after each step. Steps are pure functions over bytes (`[format version][bincode payload]`)
//! so that each one can be tested on sample bytes of the version before, without the types
//! of today's code. A step must be idempotent: a crash half way through a step reruns it
//! over records that were already rewritten, which it recognises by their version byte.
//!
//! This crate deliberately has no dependencies: a step that needs an old record type keeps a
//! frozen copy of that type (or of the part it reads) in its own module.
//!
//! A step may also derive keys of other trees from each record (a new index over records
//! that do not change): plain puts, so a rerun writes the same keys again.

mod m0001_label_postings;
mod m0002_order_blocks;
mod m0003_pending_files;

/// The schema version this build writes. A data dir with a higher version is refused.
pub const CURRENT_SCHEMA: u32 = 4;

/// Rewrites one record; `Ok(None)` leaves it as it is (already upgraded, or not concerned).
pub type Upgrade = fn(&[u8]) -> Result<Option<Vec<u8>>, String>;

/// One derived key: (tree name, key, value).
pub type Put = (&'static str, Vec<u8>, Vec<u8>);

/// The keys one record (key, value) adds to other trees.
pub type Derive = fn(&[u8], &[u8]) -> Result<Vec<Put>, String>;

/// What a regrouping step makes of one record of its tree: the record belongs to the group
/// record `group` with `members`; when `moves`, the record itself is an old one that goes
/// (its members join the group record, which is written before the record is removed).
#[derive(Debug, PartialEq, Eq)]
pub struct Joins {
    /// Key of the group record.
    pub group: Vec<u8>,
    /// What the record brings to the group.
    pub members: Vec<Vec<u8>>,
    /// True when the record is in the old form and is removed once its group is written.
    pub moves: bool,
}

/// The group one record (key, value) belongs to (`None`: not concerned).
pub type JoinsOf = fn(&[u8], &[u8]) -> Result<Option<Joins>, String>;

/// Gathers records into group records: the records of one group come one after another in
/// key order, the group record first if it exists. A rerun finds the group records written
/// and the old records that were not yet removed, and writes the same groups again.
#[derive(Debug)]
pub struct Regroup {
    /// The group a record belongs to (`None`: the record is not concerned).
    pub joins: JoinsOf,
    /// A group record's value from its members, sorted and without repeats.
    pub pack: fn(&[Vec<u8>]) -> Vec<u8>,
}

/// Where the dataset scope of an `imm.*` key ends (`account \0 region \0 project \0 dataset
/// \0`, a layout every schema so far kept): after its fourth 0 byte.
fn scope_len(key: &[u8]) -> Option<usize> {
    let mut seen = 0;
    for (i, b) in key.iter().enumerate() {
        if *b == 0 {
            seen += 1;
            if seen == 4 {
                return Some(i + 1);
            }
        }
    }
    None
}

fn unchanged(_: &[u8]) -> Result<Option<Vec<u8>>, String> {
    Ok(None)
}

/// One upgrade step: rewrites every record of `tree` from schema `from` to `from + 1`.
#[derive(Debug)]
pub struct Step {
    /// Schema version the step starts from.
    pub from: u32,
    /// Short name, used in logs and progress lines.
    pub name: &'static str,
    /// Tree whose records are rewritten.
    pub tree: &'static str,
    /// Rewrites one record.
    pub upgrade: Upgrade,
    /// Keys derived from each record (as it was before `upgrade`), written beside it.
    pub derive: Option<Derive>,
    /// Records of the tree gathered into group records (after `upgrade` and `derive`).
    pub regroup: Option<Regroup>,
}

/// Every step, in order, each with its sample bytes and tests in its module.
pub fn steps() -> &'static [Step] {
    &[
        Step {
            from: 1,
            name: "m0001-label-postings",
            tree: "imm.clusters",
            upgrade: unchanged,
            derive: Some(m0001_label_postings::derive),
            regroup: None,
        },
        Step {
            from: 2,
            name: "m0002-order-blocks",
            tree: "imm.cluster_order",
            upgrade: unchanged,
            derive: None,
            regroup: Some(Regroup {
                joins: m0002_order_blocks::joins,
                pack: m0002_order_blocks::pack,
            }),
        },
        Step {
            from: 3,
            name: "m0003-pending-files",
            tree: "imm.pending",
            upgrade: unchanged,
            derive: None,
            regroup: Some(Regroup {
                joins: m0003_pending_files::joins,
                pack: m0003_pending_files::pack,
            }),
        },
    ]
}

/// Why a data dir cannot be brought to [`CURRENT_SCHEMA`].
#[derive(Debug, PartialEq, Eq)]
pub enum PlanError {
    /// The data dir was written by a newer cloudtwin.
    TooNew {
        /// Version found in the data dir.
        found: u32,
        /// Highest version this build understands.
        supported: u32,
    },
    /// The step list has a hole: no step starts at `missing`.
    Gap {
        /// The version no step upgrades from.
        missing: u32,
    },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::TooNew { found, supported } => write!(
                f,
                "the data dir was written by a newer cloudtwin (schema version {found}); \
                 this build understands schema versions up to {supported}: upgrade cloudtwin \
                 or restore a backup made by this version"
            ),
            PlanError::Gap { missing } => {
                write!(f, "no migration step upgrades schema version {missing}")
            }
        }
    }
}

impl std::error::Error for PlanError {}

/// The steps that bring a data dir at schema `found` to `target`, in order.
pub fn plan(found: u32, target: u32, all: &[Step]) -> Result<Vec<&Step>, PlanError> {
    if found > target {
        return Err(PlanError::TooNew {
            found,
            supported: target,
        });
    }
    let mut out = Vec::new();
    for version in found..target {
        let mut here: Vec<&Step> = all.iter().filter(|s| s.from == version).collect();
        if here.is_empty() {
            return Err(PlanError::Gap { missing: version });
        }
        out.append(&mut here);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bump(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
        match bytes.first() {
            Some(1) => {
                let mut v = bytes.to_vec();
                v[0] = 2;
                Ok(Some(v))
            }
            Some(2) => Ok(None),
            other => Err(format!("unexpected record version {other:?}")),
        }
    }

    const SAMPLE: &[Step] = &[
        Step {
            from: 1,
            name: "sample-a",
            tree: "t",
            upgrade: bump,
            derive: None,
            regroup: None,
        },
        Step {
            from: 2,
            name: "sample-b",
            tree: "t",
            upgrade: bump,
            derive: None,
            regroup: None,
        },
    ];

    #[test]
    fn plan_runs_every_step_from_the_found_version_in_order() {
        let p = plan(1, 3, SAMPLE).expect("plan");
        let names: Vec<_> = p.iter().map(|s| s.name).collect();
        assert_eq!(names, ["sample-a", "sample-b"]);
        assert_eq!(plan(2, 3, SAMPLE).expect("plan").len(), 1);
        assert!(plan(3, 3, SAMPLE).expect("plan").is_empty());
    }

    #[test]
    fn plan_refuses_a_newer_data_dir() {
        assert_eq!(
            plan(4, 3, SAMPLE).unwrap_err(),
            PlanError::TooNew {
                found: 4,
                supported: 3
            }
        );
    }

    #[test]
    fn plan_reports_a_gap_in_the_steps() {
        assert_eq!(
            plan(0, 3, SAMPLE).unwrap_err(),
            PlanError::Gap { missing: 0 }
        );
    }

    #[test]
    fn the_shipped_steps_reach_the_current_schema() {
        assert!(plan(CURRENT_SCHEMA, CURRENT_SCHEMA, steps())
            .expect("plan")
            .is_empty());
        assert_eq!(plan(1, CURRENT_SCHEMA, steps()).expect("plan").len(), 3);
        for s in steps() {
            assert!(
                s.from < CURRENT_SCHEMA,
                "step {} starts past the current schema",
                s.name
            );
        }
    }

    #[test]
    fn a_step_is_idempotent_on_its_own_output() {
        let once = bump(&[1, 9, 9]).expect("upgrade").expect("rewritten");
        assert_eq!(once, vec![2, 9, 9]);
        assert_eq!(bump(&once).expect("upgrade"), None);
    }
}
