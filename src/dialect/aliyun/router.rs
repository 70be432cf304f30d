//! IMM action names -> [`Action`].

/// The API version this dialect serves.
pub const VERSION: &str = "2020-09-30";

macro_rules! actions {
    ($($name:ident),* $(,)?) => {
        /// The IMM actions cloudtwin implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Action { $($name),* }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$name),*];

            /// The wire name.
            pub fn name(self) -> &'static str {
                match self { $(Action::$name => stringify!($name)),* }
            }
        }
    };
}

actions!(
    CreateProject,
    GetProject,
    ListProjects,
    UpdateProject,
    DeleteProject,
    CreateDataset,
    GetDataset,
    ListDatasets,
    UpdateDataset,
    DeleteDataset,
    IndexFileMeta,
    BatchIndexFileMeta,
    UpdateFileMeta,
    BatchUpdateFileMeta,
    GetFileMeta,
    BatchGetFileMeta,
    DeleteFileMeta,
    BatchDeleteFileMeta,
    CreateFigureClusteringTask,
    CreateFigureClustersMergingTask,
    GetFigureCluster,
    BatchGetFigureCluster,
    QueryFigureClusters,
    UpdateFigureCluster,
    GetTask,
    ListTasks,
);

impl Action {
    /// Looks an action up by its wire name.
    pub fn from_name(name: &str) -> Option<Action> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_name() {
        assert_eq!(Action::ALL.len(), 26);
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
        }
    }
}
