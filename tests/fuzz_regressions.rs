//! Replays every input saved under `fuzz/regressions/<target>/` (crashes the fuzzers found,
//! and the seeds of their corpus) through the same entry points the fuzz targets call
//! (`pipestack::fuzzing`): each must return normally.

use std::path::Path;

use pipestack::fuzzing::TARGETS;

#[test]
fn every_saved_fuzz_input_parses_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "no inputs for {name}");
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{} panicked", input.display());
        }
    }
}

#[test]
fn every_fuzz_target_has_a_regressions_folder_and_a_cargo_fuzz_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, _) in TARGETS {
        assert!(root.join("regressions").join(name).is_dir(), "{name}");
        assert!(
            root.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "{name}"
        );
    }
}
