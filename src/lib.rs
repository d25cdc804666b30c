//! Workspace root: examples and integration tests live here.
