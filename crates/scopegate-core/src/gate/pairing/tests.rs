use super::*;

fn paired(head: &[(&str, &str)], base: &[(&str, &str)]) -> (Vec<Option<usize>>, Vec<usize>) {
    let p = pair(head, base).unwrap();
    (p.base_of, p.unclaimed)
}

#[test]
fn the_same_path_and_id_pairs_first() {
    assert_eq!(
        paired(
            &[("a/x.yaml", "a"), ("b/x.yaml", "b")],
            &[("b/x.yaml", "b"), ("a/x.yaml", "a")]
        ),
        (vec![Some(1), Some(0)], vec![])
    );
}

#[test]
fn a_moved_manifest_is_followed_by_its_id() {
    assert_eq!(
        paired(&[("new/x.yaml", "a")], &[("old/x.yaml", "a")]),
        (vec![Some(0)], vec![])
    );
}

#[test]
fn a_new_id_at_a_moved_apps_old_path_is_an_id_change_and_the_app_is_new_elsewhere() {
    // `a` went to new/, and `c` took old/: old/ pairs with its own baseline (an id
    // change that needs approval), and `a` cannot move from a path still in use.
    assert_eq!(
        paired(
            &[("old/x.yaml", "c"), ("new/x.yaml", "a")],
            &[("old/x.yaml", "a")]
        ),
        (vec![Some(0), None], vec![])
    );
}

#[test]
fn two_apps_swapping_ids_keep_their_paths_baselines() {
    // Regression (issue 12 §2): read as two moves, the swap was "NO CHANGE".
    assert_eq!(
        paired(
            &[("a.yaml", "b"), ("b.yaml", "a")],
            &[("a.yaml", "a"), ("b.yaml", "b")]
        ),
        (vec![Some(0), Some(1)], vec![])
    );
}

#[test]
fn an_id_taken_from_a_moved_away_path_is_an_id_change_and_a_removal() {
    // b.yaml is gone; a.yaml now claims `b`: a.yaml keeps its own baseline.
    assert_eq!(
        paired(&[("a.yaml", "b")], &[("a.yaml", "a"), ("b.yaml", "b")]),
        (vec![Some(0)], vec![1])
    );
}

#[test]
fn a_path_and_id_changed_together_is_a_new_app_and_a_removal() {
    assert_eq!(
        paired(&[("new.yaml", "n")], &[("old.yaml", "o")]),
        (vec![None], vec![0])
    );
}

#[test]
fn a_baseline_app_no_head_manifest_claims_is_unclaimed() {
    assert_eq!(
        paired(
            &[("a.yaml", "a")],
            &[("a.yaml", "a"), ("gone.yaml", "gone")]
        ),
        (vec![Some(0)], vec![1])
    );
}

#[test]
fn pairing_is_near_linear_in_the_app_count() {
    // Regression (issue 17 §5): linear scans per manifest made 15,000 apps take 34 s.
    let paths: Vec<String> = (0..40_000).map(|i| format!("apps/{i}/x.yaml")).collect();
    let ids: Vec<String> = (0..40_000).map(|i| format!("app-{i}")).collect();
    // Every app moved: the slowest shape for a quadratic pairing.
    let moved: Vec<String> = (0..40_000).map(|i| format!("moved/{i}/x.yaml")).collect();
    let head: Vec<(&str, &str)> = moved
        .iter()
        .zip(&ids)
        .map(|(p, i)| (p.as_str(), i.as_str()))
        .collect();
    let base: Vec<(&str, &str)> = paths
        .iter()
        .zip(&ids)
        .map(|(p, i)| (p.as_str(), i.as_str()))
        .collect();
    let t = std::time::Instant::now();
    let p = pair(&head, &base).unwrap();
    assert!(p.base_of.iter().enumerate().all(|(i, j)| *j == Some(i)));
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn two_head_manifests_with_one_id_are_an_error_naming_both() {
    let e = pair(&[("apps/a/x.yaml", "dup"), ("apps/b/x.yaml", "dup")], &[]).unwrap_err();
    assert!(e.contains("`dup`: apps/a/x.yaml and apps/b/x.yaml"), "{e}");
}
