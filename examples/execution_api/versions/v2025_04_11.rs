//! 2025-04-11: the first version of Airflow's Execution API (Airflow 3.0's
//! first release). Nothing came before it, so it changed nothing; a client
//! asking for an earlier date is 404.

use super::{Date, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2025, 4, 11),
    changes: &[],
};
