//! The group-commit writer.
