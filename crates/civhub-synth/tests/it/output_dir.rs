use crate::common::tmp;
use civhub_synth::{SynthError, SynthOptions, generate};

#[test]
fn refuses_a_foreign_folder_and_replaces_its_own() {
    let dir = tmp("foreign");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    let opts = SynthOptions {
        persons: 60,
        seed: 1,
        out: dir.clone(),
        progress: None,
    };
    match generate(&opts) {
        Err(e @ SynthError::NotEmpty(_)) => assert!(e.hint().is_some()),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).expect("kept"),
        "mine"
    );

    let own = tmp("own");
    let _ = std::fs::remove_dir_all(&own);
    let first = generate(&SynthOptions {
        out: own.clone(),
        ..opts.clone()
    })
    .expect("first");
    std::fs::write(own.join("exports/stale.csv"), "x").expect("write");
    let second = generate(&SynthOptions {
        out: own.clone(),
        seed: 2,
        ..opts
    })
    .expect("second");
    assert!(
        !own.join("exports/stale.csv").exists(),
        "a previous synth output is replaced"
    );
    assert_eq!(first.persons, second.persons);
}

#[test]
fn too_few_persons_is_an_error() {
    let opts = SynthOptions {
        persons: 3,
        seed: 1,
        out: tmp("few"),
        progress: None,
    };
    assert!(matches!(generate(&opts), Err(SynthError::TooFew { .. })));
}
