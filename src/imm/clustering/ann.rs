//! The indexed run's approximate nearest-neighbour index: cross-polytope locality-sensitive
//! hashing (Andoni et al., 2015) over unit vectors, with multi-probe. Written here, with no
//! dependency, so that it is deterministic: the random directions come from a fixed seed and
//! buckets list items in the order they were put.
//!
//! Why hashing and not a graph (HNSW was tried first): face embeddings of distinct identities
//! are close to orthogonal in 128 dimensions, and a face's only near points are the few faces
//! of its own identity (cosine 0.6 to 0.8 against 0 ± 0.1 for the rest). A graph search has no
//! gradient to follow towards them and visits a growing share of the graph (50k faces took
//! 32 s, and missed 1% of pairs); hashing is made for exactly this gap.
//!
//! A *block* is [`BLOCK`] random directions; a vector's code in a block is the direction of
//! largest absolute projection, with its sign (one of `2 × BLOCK`), and the runner-up. A table
//! keys an item by the codes of [`PER_TABLE`] blocks; there are [`TABLES`] tables. A query
//! probes, in each table, the 16 keys made of each block's best or runner-up code.
//!
//! Chance that a query finds an item of cosine ρ in one table (simulated): 0.048 at ρ = 0.61
//! (a face and a cluster of one other face of its identity, noise 0.8), 0.135 at 0.75 (a face
//! and a grown cluster), 0.38 at 0.89 (two halves of one identity); so with 32 tables a face
//! misses a grown cluster of its identity 1% of the time, and two halves of one identity
//! practically never miss each other when new clusters merge. Random items: 1 in 65536 a probe.

/// Random directions a block.
const BLOCK: usize = 8;
/// Bits of one block's code (`2 × BLOCK` values).
const BITS: usize = 4;
/// Blocks keyed together in one table (65536 buckets a table).
const PER_TABLE: usize = 4;
/// Tables.
pub const TABLES: usize = 32;
const BLOCKS: usize = TABLES * PER_TABLE;
/// Bits of the sign sketch that filters candidates before their exact cosine.
const SKETCH: usize = 128;
/// Most differing sketch bits of a kept candidate: a cosine of 0.61 differs in 37 ± 5 of 128
/// bits (so 0.1% are lost), an unrelated vector in 64 ± 6 (4% pass).
const SKETCH_MAX: u32 = 54;
const BUCKETS: usize = 1 << (BITS * PER_TABLE);
/// No key: the item is not in the index.
const NONE: u16 = u16::MAX;

/// Inner product, in 16 independent lanes so that the compiler vectorises it.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const L: usize = 16;
    let mut acc = [0f32; L];
    let (ca, cb) = (a.chunks_exact(L), b.chunks_exact(L));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((a, x), y) in acc.iter_mut().zip(x).zip(y) {
            *a += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// A vector's code in every block: the best direction (with sign) and the runner-up; and its
/// sign sketch.
pub struct Code {
    best: [u8; BLOCKS],
    second: [u8; BLOCKS],
    sketch: [u64; SKETCH / 64],
}

/// The index: items (numbers chosen by the caller) under their keys.
pub struct Lsh {
    dim: usize,
    /// `BLOCKS × BLOCK` unit directions, one after another.
    dirs: Vec<f32>,
    /// `TABLES × BUCKETS` buckets of items.
    buckets: Vec<Vec<u32>>,
    /// Each item's key in every table (`NONE` when it is not in the index).
    keys: Vec<u16>,
    /// Each item's sketch.
    sketches: Vec<[u64; SKETCH / 64]>,
}

impl Lsh {
    /// An empty index for vectors of `dim` numbers; the directions come from `seed`.
    pub fn new(dim: usize, seed: u64) -> Lsh {
        let mut rng = super::synthetic::Rng::new(seed);
        let mut dirs = Vec::with_capacity((BLOCKS * BLOCK + SKETCH) * dim);
        for _ in 0..BLOCKS * BLOCK + SKETCH {
            let v: Vec<f32> = (0..dim).map(|_| rng.gauss()).collect();
            dirs.extend(super::normalized(&v).unwrap_or_else(|| vec![0.0; dim]));
        }
        Lsh {
            dim,
            dirs,
            buckets: vec![Vec::new(); TABLES * BUCKETS],
            keys: Vec::new(),
            sketches: Vec::new(),
        }
    }

    /// The projections of `v` on every direction.
    fn project(&self, v: &[f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { project_avx2(&self.dirs, self.dim, v, out) };
            return;
        }
        project_plain(&self.dirs, self.dim, v, out);
    }

    /// The code of a vector of the index's dimension.
    pub fn code(&self, v: &[f32]) -> Code {
        let mut c = Code {
            best: [0; BLOCKS],
            second: [0; BLOCKS],
            sketch: [0; SKETCH / 64],
        };
        let mut ys = [0f32; BLOCKS * BLOCK + SKETCH];
        self.project(v, &mut ys);
        for (k, y) in ys[BLOCKS * BLOCK..].iter().enumerate() {
            if *y < 0.0 {
                c.sketch[k / 64] |= 1 << (k % 64);
            }
        }
        for b in 0..BLOCKS {
            let (mut first, mut next) = ((0u8, f32::NEG_INFINITY), (0u8, f32::NEG_INFINITY));
            for j in 0..BLOCK {
                let y = ys[b * BLOCK + j];
                let code = (j * 2 + usize::from(y < 0.0)) as u8;
                let a = y.abs();
                if a > first.1 {
                    next = first;
                    first = (code, a);
                } else if a > next.1 {
                    next = (code, a);
                }
            }
            c.best[b] = first.0;
            c.second[b] = next.0;
        }
        c
    }

    /// Table `t`'s key; bit `i` of `alt` set: block `i` of the table takes its runner-up.
    fn key(c: &Code, t: usize, alt: usize) -> usize {
        let mut k = 0;
        for i in 0..PER_TABLE {
            let b = t * PER_TABLE + i;
            let v = if alt & (1 << i) != 0 {
                c.second[b]
            } else {
                c.best[b]
            };
            k |= (v as usize) << (BITS * i);
        }
        k
    }

    /// Puts `item` under `code`, moving it if it was in the index.
    pub fn put(&mut self, item: u32, code: &Code) {
        self.remove(item);
        let i = item as usize;
        for t in 0..TABLES {
            let k = Self::key(code, t, 0);
            self.buckets[t * BUCKETS + k].push(item);
            self.keys[i * TABLES + t] = k as u16;
        }
        self.sketches[i] = code.sketch;
    }

    /// Takes `item` out of the index.
    pub fn remove(&mut self, item: u32) {
        let i = item as usize;
        if self.keys.len() < (i + 1) * TABLES {
            self.keys.resize((i + 1) * TABLES, NONE);
            self.sketches.resize(i + 1, [0; SKETCH / 64]);
        }
        for t in 0..TABLES {
            let k = self.keys[i * TABLES + t];
            if k != NONE {
                self.buckets[t * BUCKETS + k as usize].retain(|&x| x != item);
                self.keys[i * TABLES + t] = NONE;
            }
        }
    }

    /// The items in the buckets a query of `code` probes whose sketch is near the query's,
    /// each once, in increasing order.
    pub fn candidates(&self, code: &Code, out: &mut Vec<u32>) {
        out.clear();
        let near = |item: &u32| {
            let s = &self.sketches[*item as usize];
            let d: u32 = s
                .iter()
                .zip(&code.sketch)
                .map(|(a, b)| (a ^ b).count_ones())
                .sum();
            d <= SKETCH_MAX
        };
        for t in 0..TABLES {
            for alt in 0..1 << PER_TABLE {
                let bucket = &self.buckets[t * BUCKETS + Self::key(code, t, alt)];
                out.extend(bucket.iter().filter(|i| near(i)));
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// `out[r] = dirs[r] · v` for every row `r` of `dim` numbers.
#[inline(always)]
fn project_plain(dirs: &[f32], dim: usize, v: &[f32], out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(dirs.chunks_exact(dim)) {
        *o = dot(row, v);
    }
}

/// [`project_plain`] compiled for AVX2 (the same code, 8 lanes a register).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn project_avx2(dirs: &[f32], dim: usize, v: &[f32], out: &mut [f32]) {
    project_plain(dirs, dim, v, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.1).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-3);
    }

    #[test]
    fn a_near_vector_finds_its_item_and_a_moved_item_leaves_its_old_place() {
        let mut rng = super::super::synthetic::Rng::new(3);
        let dim = 64;
        let mut idx = Lsh::new(dim, 1);
        let unit = |rng: &mut super::super::synthetic::Rng| {
            let v: Vec<f32> = (0..dim).map(|_| rng.gauss()).collect();
            super::super::normalized(&v).unwrap_or_default()
        };
        let pts: Vec<Vec<f32>> = (0..2000).map(|_| unit(&mut rng)).collect();
        for (i, p) in pts.iter().enumerate() {
            idx.put(i as u32, &idx.code(p));
        }
        let mut out = Vec::new();
        let mut found = 0;
        for (i, p) in pts.iter().enumerate().take(200) {
            // Cosine about 0.75 with the item.
            let n = unit(&mut rng);
            let q: Vec<f32> = p.iter().zip(&n).map(|(x, y)| x + 0.88 * y).collect();
            idx.candidates(&idx.code(&q), &mut out);
            found += usize::from(out.binary_search(&(i as u32)).is_ok());
        }
        assert!(found >= 190, "{found} of 200");
        idx.put(0, &idx.code(&pts[1]));
        idx.candidates(&idx.code(&pts[0]), &mut out);
        idx.remove(1);
        let mut again = Vec::new();
        idx.candidates(&idx.code(&pts[1]), &mut again);
        assert!(again.contains(&0) && !again.contains(&1));
    }
}
