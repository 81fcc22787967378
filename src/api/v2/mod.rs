//! The current v2 dialect, served under `/api/v2`: plain ids, `emails`/`phones`,
//! `custom_fields`, RFC 3339 times, cursor paging, no `related_objects`.

pub mod organizations;
pub mod person_fields;
pub mod persons;
pub mod render;
