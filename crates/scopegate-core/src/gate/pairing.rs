//! Which baseline manifest each head manifest is judged against: by path, then by
//! id for an app that moved, and which baseline apps are removed. Pure: the CLI reads
//! the manifests at both ends and hands their paths and ids here.

use std::collections::{HashMap, HashSet};

/// The result of [`pair`]: for each head manifest, the index of its baseline (if
/// any); and the baseline manifests no head manifest claims.
#[derive(Debug, PartialEq, Eq)]
pub struct Pairing {
    pub base_of: Vec<Option<usize>>,
    pub(crate) unclaimed: Vec<usize>,
}

/// Pairs head manifests with baseline manifests, both given as `(path, app id)`.
///
/// An app is its id at a path, and no manifest inherits another app's baseline:
/// - a head manifest at a path the baseline had pairs with the manifest at that path,
///   whatever its id (a changed id is then a change that needs its own approval, and
///   the content is diffed against that path's baseline);
/// - a head manifest at a new path pairs with the baseline manifest of the same id
///   only when that manifest's path has no head manifest (the app moved);
/// - anything else is a new app, and a baseline manifest left unclaimed is removed.
///
/// So two apps swapping ids are two id changes, not two moves; an app renamed to the
/// id of a moved or removed app is an id change plus a removal. Two head manifests with
/// the same id are an error naming both paths. Linear in the number of manifests.
pub fn pair(head: &[(&str, &str)], base: &[(&str, &str)]) -> Result<Pairing, String> {
    let mut seen: HashMap<&str, &str> = HashMap::with_capacity(head.len());
    for (path, id) in head {
        if let Some(first) = seen.insert(id, path) {
            return Err(format!(
                "two manifests have the app id `{id}`: {first} and {path}\n  hint: each app needs its own id; the gate matches an app to its baseline by path and id"
            ));
        }
    }
    let head_paths: HashSet<&str> = head.iter().map(|(p, _)| *p).collect();
    let mut by_path: HashMap<&str, usize> = HashMap::with_capacity(base.len());
    // Baseline manifests whose path is gone at head, by id: the ones that can move.
    let mut movable: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, (path, id)) in base.iter().enumerate().rev() {
        by_path.insert(path, j);
        if !head_paths.contains(path) {
            movable.entry(id).or_default().push(j);
        }
    }
    let mut base_of = vec![None; head.len()];
    let mut taken = vec![false; base.len()];
    for (i, (path, _)) in head.iter().enumerate() {
        if let Some(&j) = by_path.get(path)
            && !taken[j]
        {
            taken[j] = true;
            base_of[i] = Some(j);
        }
    }
    for (i, (_, id)) in head.iter().enumerate() {
        if base_of[i].is_some() {
            continue;
        }
        // The candidates were pushed in reverse: the first in baseline order is last.
        if let Some(j) = movable.get_mut(id).and_then(Vec::pop) {
            taken[j] = true;
            base_of[i] = Some(j);
        }
    }
    let unclaimed = (0..base.len()).filter(|&j| !taken[j]).collect();
    Ok(Pairing { base_of, unclaimed })
}

impl Pairing {
    /// The unclaimed baseline apps that are removed: only a run that gates the
    /// config's entries removes anything (manifests named on the command line say
    /// nothing about the others), and only baseline manifests those entries name
    /// (`gated(j)`).
    pub fn removed(&self, from_config: bool, gated: impl Fn(usize) -> bool) -> Vec<usize> {
        if !from_config {
            return Vec::new();
        }
        self.unclaimed
            .iter()
            .copied()
            .filter(|&j| gated(j))
            .collect()
    }
}

#[cfg(test)]
mod tests;
