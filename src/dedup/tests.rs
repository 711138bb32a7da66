//! Tests of the dedup stage.
