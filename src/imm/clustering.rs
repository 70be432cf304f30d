//! Face clustering by cosine similarity of embeddings: an online "leader" algorithm. Each face
//! joins the cluster whose centroid is most similar, if that similarity reaches the threshold;
//! otherwise it starts a new cluster. Centroids are running means, so clusters settle as faces
//! join, and existing clusters of the dataset take part (clustering is incremental).

use super::model::Cluster;

/// `v / |v|`, or `None` for a zero or non-finite vector.
pub fn normalized(v: &[f32]) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return None;
    }
    Some(v.iter().map(|x| x / norm).collect())
}

/// Cosine similarity; -1 when the dimensions differ or a vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return -1.0;
    }
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return -1.0;
    }
    dot / (na.sqrt() * nb.sqrt())
}

/// Moves a centroid towards a new member's (normalised) embedding.
pub fn fold(centroid: &mut Vec<f32>, weight: &mut u64, embedding: &[f32]) {
    let Some(e) = normalized(embedding) else {
        return;
    };
    if *weight == 0 || centroid.len() != e.len() {
        *centroid = e;
        *weight = 1;
        return;
    }
    let w = *weight as f32;
    for (c, x) in centroid.iter_mut().zip(&e) {
        *c = (*c * w + x) / (w + 1.0);
    }
    *weight += 1;
}

/// Adds a member's embedding to a stored cluster's centroid.
pub fn absorb(c: &mut Cluster, embedding: &[f32]) {
    let mut centroid = c.centroid.take().unwrap_or_default();
    fold(&mut centroid, &mut c.centroid_weight, embedding);
    c.centroid = Some(centroid);
}

/// A cluster taking part in one clustering run.
#[derive(Debug, Clone)]
pub struct Group {
    /// The stored cluster it is, if any.
    pub existing: Option<String>,
    /// Its centroid.
    pub centroid: Vec<f32>,
    /// Embeddings in the centroid.
    pub weight: u64,
    /// Indices (into the run's faces) of the faces that joined in this run.
    pub faces: Vec<usize>,
    /// The stored centroid and weight before this run (empty for a new group).
    pub base: (Vec<f32>, u64),
}

impl Group {
    /// A stored cluster's group, before the run.
    pub fn stored(id: String, centroid: Vec<f32>, weight: u64) -> Group {
        Group {
            existing: Some(id),
            base: (centroid.clone(), weight),
            centroid,
            weight,
            faces: Vec::new(),
        }
    }

    fn fresh() -> Group {
        Group {
            existing: None,
            centroid: Vec::new(),
            weight: 0,
            faces: Vec::new(),
            base: (Vec::new(), 0),
        }
    }

    /// Recomputes the centroid from the stored base and this run's faces.
    fn recompute(&mut self, faces: &[Vec<f32>]) {
        self.centroid = self.base.0.clone();
        self.weight = self.base.1;
        for &i in &self.faces {
            fold(&mut self.centroid, &mut self.weight, &faces[i]);
        }
    }
}

fn best_group(groups: &[Group], e: &[f32], threshold: f32) -> Option<usize> {
    groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.weight > 0)
        .map(|(g, grp)| (g, cosine(&grp.centroid, e)))
        .filter(|(_, s)| *s >= threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(g, _)| g)
}

/// Merges every new group into the most similar other group (new or stored) whose centroid
/// reaches `threshold`, in passes until a pass merges nothing. Stored clusters never merge with
/// each other.
fn merge_new(groups: &mut Vec<Group>, faces: &[Vec<f32>], threshold: f32) {
    loop {
        let mut merged = false;
        let mut i = 0;
        while i < groups.len() {
            if groups[i].existing.is_some() || groups[i].faces.is_empty() {
                i += 1;
                continue;
            }
            let target = (0..groups.len())
                .filter(|&j| j != i && groups[j].weight > 0)
                .map(|j| (j, cosine(&groups[i].centroid, &groups[j].centroid)))
                .filter(|(_, s)| *s >= threshold)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(j, _)| j);
            match target {
                Some(j) => {
                    let moved = std::mem::take(&mut groups[i].faces);
                    groups[j].faces.extend(moved);
                    groups[j].recompute(faces);
                    groups.remove(i);
                    merged = true;
                }
                None => i += 1,
            }
        }
        if !merged {
            return;
        }
    }
}

/// Clusters one run's faces: a leader pass (each face joins the most similar centroid at or
/// above `threshold`, or starts a group), then new groups whose centroids agree are merged,
/// every face moves to its most similar centroid, and groups are merged once more. Faces whose
/// embedding is unusable are returned apart.
pub fn assign(groups: &mut Vec<Group>, faces: &[Vec<f32>], threshold: f32) -> Vec<usize> {
    let mut unusable = Vec::new();
    for (i, f) in faces.iter().enumerate() {
        if normalized(f).is_none() {
            unusable.push(i);
            continue;
        }
        let g = best_group(groups, f, threshold).unwrap_or_else(|| {
            groups.push(Group::fresh());
            groups.len() - 1
        });
        let grp = &mut groups[g];
        fold(&mut grp.centroid, &mut grp.weight, f);
        grp.faces.push(i);
    }
    merge_new(groups, faces, threshold);
    // One k-means step over this run's faces.
    let mut moves = Vec::new();
    for (g, grp) in groups.iter().enumerate() {
        for &i in &grp.faces {
            if let Some(b) = best_group(groups, &faces[i], threshold) {
                if b != g {
                    moves.push((i, g, b));
                }
            }
        }
    }
    for (i, from, to) in moves {
        groups[from].faces.retain(|&x| x != i);
        groups[to].faces.push(i);
    }
    for g in groups.iter_mut() {
        g.recompute(faces);
    }
    groups.retain(|g| g.existing.is_some() || !g.faces.is_empty());
    merge_new(groups, faces, threshold);
    for g in groups.iter_mut() {
        g.faces.sort_unstable();
    }
    unusable
}

/// Pairwise precision and recall of a clustering against true labels.
pub fn pair_scores(truth: &[usize], predicted: &[usize]) -> (f64, f64) {
    let (mut tp, mut fp, mut fneg) = (0u64, 0u64, 0u64);
    for i in 0..truth.len() {
        for j in i + 1..truth.len() {
            match (truth[i] == truth[j], predicted[i] == predicted[j]) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fneg += 1,
                _ => {}
            }
        }
    }
    let precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = if tp + fneg == 0 {
        1.0
    } else {
        tp as f64 / (tp + fneg) as f64
    };
    (precision, recall)
}

#[cfg(test)]
pub(crate) mod synthetic {
    //! Synthetic identities: a random unit centroid per identity plus Gaussian noise per face.

    /// xorshift64* with Box-Muller: deterministic, no dependency.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(seed.max(1))
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn uniform(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        pub fn gauss(&mut self) -> f32 {
            let (u1, u2) = (self.uniform(), self.uniform());
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        }
    }

    /// `(faces, identity of each face)`; `noise` is the noise norm relative to the centroid.
    pub fn faces(
        rng: &mut Rng,
        identities: usize,
        per_identity: usize,
        dim: usize,
        noise: f32,
    ) -> (Vec<Vec<f32>>, Vec<usize>) {
        let centroids: Vec<Vec<f32>> = (0..identities)
            .map(|_| {
                super::normalized(&(0..dim).map(|_| rng.gauss()).collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .collect();
        let sigma = noise / (dim as f32).sqrt();
        let mut out = Vec::new();
        let mut truth = Vec::new();
        for _ in 0..per_identity {
            for (id, c) in centroids.iter().enumerate() {
                out.push(c.iter().map(|x| x + sigma * rng.gauss()).collect());
                truth.push(id);
            }
        }
        (out, truth)
    }
}

#[cfg(test)]
mod tests {
    use super::synthetic::{faces, Rng};
    use super::*;

    #[test]
    fn cosine_of_parallel_orthogonal_and_mismatched_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), -1.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), -1.0);
    }

    fn scores(noise: f32, threshold: f32) -> (usize, f64, f64) {
        let mut rng = Rng::new(42);
        let (embeddings, truth) = faces(&mut rng, 40, 12, 128, noise);
        let mut groups = Vec::new();
        let unusable = assign(&mut groups, &embeddings, threshold);
        assert!(unusable.is_empty());
        let mut predicted = vec![0; embeddings.len()];
        for (g, grp) in groups.iter().enumerate() {
            for &i in &grp.faces {
                predicted[i] = g;
            }
        }
        let (p, r) = pair_scores(&truth, &predicted);
        println!("40 identities x 12 faces, dim 128, noise {noise}, threshold {threshold}: {} clusters, precision {p:.4}, recall {r:.4}", groups.len());
        (groups.len(), p, r)
    }

    #[test]
    #[ignore = "a sweep for the figures in docs/imm.md: cargo test --lib threshold_sweep -- --ignored --nocapture"]
    fn threshold_sweep() {
        for t in [0.4, 0.45, 0.5, 0.55, 0.6] {
            for noise in [0.5, 0.8, 1.0, 1.2] {
                scores(noise, t);
            }
        }
    }

    #[test]
    fn synthetic_identities_are_recovered_with_high_precision_and_recall() {
        for noise in [0.5, 0.8, 1.0] {
            let (_, p, r) = scores(noise, 0.5);
            assert!(p >= 0.99, "noise {noise}: precision {p}");
            assert!(r >= 0.95, "noise {noise}: recall {r}");
        }
    }

    #[test]
    fn clustering_is_incremental_against_existing_centroids() {
        let mut rng = Rng::new(7);
        let (first, truth1) = faces(&mut rng, 5, 6, 64, 0.6);
        let mut groups = Vec::new();
        assign(&mut groups, &first, 0.6);
        assert_eq!(groups.len(), 5);
        // A second run sees the first run's clusters as existing ones.
        let mut existing: Vec<Group> = groups
            .iter()
            .enumerate()
            .map(|(g, grp)| Group::stored(format!("c{g}"), grp.centroid.clone(), grp.weight))
            .collect();
        let owner_of: Vec<usize> = (0..5)
            .map(|id| {
                groups
                    .iter()
                    .position(|g| {
                        g.faces
                            .contains(&truth1.iter().position(|t| *t == id).unwrap_or(0))
                    })
                    .unwrap_or(0)
            })
            .collect();
        let mut more = Vec::new();
        let mut more_truth = Vec::new();
        for (i, e) in first.iter().enumerate().take(10) {
            more.push(
                e.iter()
                    .map(|x| x + 0.6 / 8.0 * rng.gauss())
                    .collect::<Vec<f32>>(),
            );
            more_truth.push(truth1[i]);
        }
        assign(&mut existing, &more, 0.6);
        assert_eq!(existing.len(), 5, "no new cluster for known identities");
        for (g, grp) in existing.iter().enumerate() {
            for &i in &grp.faces {
                assert_eq!(owner_of[more_truth[i]], g);
            }
        }
    }

    #[test]
    fn pair_scores_of_perfect_and_merged_clusterings() {
        assert_eq!(pair_scores(&[0, 0, 1, 1], &[5, 5, 7, 7]), (1.0, 1.0));
        let (p, r) = pair_scores(&[0, 0, 1, 1], &[0, 0, 0, 0]);
        assert!((p - 2.0 / 6.0).abs() < 1e-9 && r == 1.0);
    }
}
